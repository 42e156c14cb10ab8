{
  "targets": [
    {
      "target_name": "smi_pool",
      "sources": ["src/pool_addon.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "include"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"]
    }
  ]
}
