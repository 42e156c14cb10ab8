import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layering of src/ (../shared/DESIGN.md, "Top-level layout"): a folder imports only folders on
 * earlier rows. Folders on one row do not import each other, except where a row is split with '>'
 * (the right-hand side may import the left). Test files and test-support/ are exempt.
 */
const LAYERS = [
  ['wire', 'pool', 'schema', 'math'],
  ['telemetry', 'smi/spec'],
  ['fusion', 'planning', 'sim', 'metrics', 'smi/policy', 'smi/divergence'],
  ['io', '>', 'sensors'],
  ['workers', '>', 'smi/scheduler', 'smi/controller'],
  ['service', '>', 'fleet', '>', 'cli'],
];

/** For each folder, the folders it must not import (anything on its row or a later one). */
function layerRules() {
  const order = [];
  LAYERS.forEach((row, r) => {
    let step = 0;
    for (const f of row) {
      if (f === '>') step++;
      else order.push({ folder: f, row: r, step });
    }
  });
  const all = order.map((o) => o.folder).concat(['test-support']);
  return order.map(({ folder, row, step }) => {
    const forbidden = all.filter((other) => {
      if (other === folder) return false;
      if (other === 'test-support') return true;
      const o = order.find((x) => x.folder === other);
      return o.row > row || (o.row === row && o.step >= step);
    });
    const patterns = forbidden.flatMap((f) => [`**/${f}/*`, `**/${f}/**`]);
    // A sibling inside smi/ is imported as '../scheduler/...', without the 'smi/' prefix.
    if (folder.startsWith('smi/')) {
      for (const f of forbidden)
        if (f.startsWith('smi/')) patterns.push(`../${f.slice(4)}/*`, `../${f.slice(4)}/**`);
    }
    return {
      files: [`src/${folder}/**/*.ts`],
      ignores: ['src/**/*.test.ts', 'src/**/*.test-helpers.ts', 'src/**/testing/**'],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              {
                group: patterns,
                message: `src/${folder} sits below these folders in the layering (eslint.config.js LAYERS, DESIGN.md): it must not import them.`,
              },
            ],
          },
        ],
      },
    };
  });
}

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'native/build/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        Buffer: 'readonly',
        console: 'readonly',
        performance: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        SharedArrayBuffer: 'readonly',
        Atomics: 'readonly',
        structuredClone: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...layerRules(),
);
