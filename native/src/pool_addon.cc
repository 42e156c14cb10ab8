// smi_pool addon: POSIX shared-memory segments handed to JavaScript as real SharedArrayBuffers,
// and the native ring (native/include/smi_pool.h) driven from JavaScript.
//
// Why V8 next to Node-API: Node 20's Node-API cannot make a SharedArrayBuffer over external
// memory (node_api_create_sharedarraybuffer arrives in Node 22.21), and an external ArrayBuffer
// is copied when posted to a worker. V8's BackingStore API can, so the two places that create or
// unwrap a SharedArrayBuffer use it; everything else is node-addon-api.
#include <napi.h>
#include <node.h>
#include <v8.h>

#include <sched.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "smi_pool.h"

namespace {

// Node-API values are V8 locals underneath (v8impl::JsValueFromV8LocalValue is a plain cast).
static_assert(sizeof(napi_value) == sizeof(v8::Local<v8::Value>), "napi_value is a V8 local");
v8::Local<v8::Value> ToV8(napi_value v) {
  v8::Local<v8::Value> local;
  memcpy(static_cast<void*>(&local), &v, sizeof v);
  return local;
}
napi_value FromV8(v8::Local<v8::Value> local) {
  napi_value v;
  memcpy(&v, static_cast<void*>(&local), sizeof v);
  return v;
}

std::string SysError(const std::string& what, int err) { return what + ": " + strerror(err); }

bool ValidName(const std::string& name) {
  return name.size() >= 2 && name.size() < 250 && name[0] == '/' && name.find('/', 1) == std::string::npos;
}

// The mapping belongs to the SharedArrayBuffer: unmapped when the last isolate lets go of it.
napi_value WrapMapping(Napi::Env env, void* base, size_t size) {
  auto store = v8::SharedArrayBuffer::NewBackingStore(
      base, size, [](void* data, size_t length, void*) { munmap(data, length); }, nullptr);
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  return FromV8(v8::SharedArrayBuffer::New(isolate, std::move(store)));
}

std::shared_ptr<v8::BackingStore> StoreOf(const Napi::Value& value, const char* what) {
  v8::Local<v8::Value> local = ToV8(value);
  if (!local->IsSharedArrayBuffer()) {
    throw Napi::TypeError::New(value.Env(), std::string(what) + ": expected a SharedArrayBuffer");
  }
  return local.As<v8::SharedArrayBuffer>()->GetBackingStore();
}

// createSegment(name, bytes): a new zeroed segment, mode 0600, space reserved up front so that a
// full /dev/shm is an error here rather than a SIGBUS on first touch.
Napi::Value CreateSegment(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>();
  double bytes = info[1].As<Napi::Number>().DoubleValue();
  std::string where = "pool segment '" + name + "'";
  if (!ValidName(name)) throw Napi::Error::New(env, where + ": name must be '/' followed by 1-248 characters without '/'");
  if (!(bytes >= SMI_SEGMENT_HEADER_BYTES) || bytes > 4294967295.0) {
    throw Napi::RangeError::New(env, where + ": size " + std::to_string(bytes) + " out of range");
  }
  size_t size = static_cast<size_t>(bytes);
  int fd = shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  if (fd < 0) {
    int err = errno;
    Napi::Error e = Napi::Error::New(env, SysError(where + ": shm_open failed", err));
    e.Set("code", Napi::String::New(env, err == EEXIST ? "EEXIST" : "ESYS"));
    throw e;
  }
  fchmod(fd, 0600);  // whatever the umask
  int rc = ftruncate(fd, static_cast<off_t>(size));
  if (rc == 0) rc = posix_fallocate(fd, 0, static_cast<off_t>(size));
  else rc = errno;
  if (rc != 0) {
    close(fd);
    shm_unlink(name.c_str());
    throw Napi::Error::New(env, SysError(where + ": reserving " + std::to_string(size) + " bytes failed", rc));
  }
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int err = errno;
  close(fd);
  if (base == MAP_FAILED) {
    shm_unlink(name.c_str());
    throw Napi::Error::New(env, SysError(where + ": mmap failed", err));
  }
  return Napi::Value(env, WrapMapping(env, base, size));
}

// openSegment(name): maps an existing segment; the layout is checked in JavaScript.
Napi::Value OpenSegment(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>();
  std::string where = "pool segment '" + name + "'";
  if (!ValidName(name)) throw Napi::Error::New(env, where + ": name must be '/' followed by 1-248 characters without '/'");
  int fd = shm_open(name.c_str(), O_RDWR, 0);
  if (fd < 0) {
    int e = errno;
    Napi::Error error = Napi::Error::New(env, SysError(where + ": shm_open failed", e));
    error.Set("code", Napi::String::New(env, e == ENOENT ? "ENOENT" : "ESYS"));
    throw error;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(SMI_SEGMENT_HEADER_BYTES)) {
    close(fd);
    throw Napi::Error::New(env, where + ": too small to be a pool segment");
  }
  size_t size = static_cast<size_t>(st.st_size);
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int err = errno;
  close(fd);
  if (base == MAP_FAILED) throw Napi::Error::New(env, SysError(where + ": mmap failed", err));
  return Napi::Value(env, WrapMapping(env, base, size));
}

Napi::Value UnlinkSegment(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>();
  return Napi::Boolean::New(info.Env(), ValidName(name) && shm_unlink(name.c_str()) == 0);
}

// futexWake(sab, wordOffset): wakes every process/thread asleep on a word of the segment.
Napi::Value FutexWake(const Napi::CallbackInfo& info) {
  auto store = StoreOf(info[0], "futexWake");
  uint32_t off = info[1].As<Napi::Number>().Uint32Value();
  if (off % 4 != 0 || off + 4 > store->ByteLength()) throw Napi::RangeError::New(info.Env(), "futexWake: bad offset");
  smi_futex_wake(smi_u32(static_cast<uint8_t*>(store->Data()), off));
  return info.Env().Undefined();
}

// futexWait(sab, wordOffset, waitersOffset, expected, timeoutMs): blocks this thread (a worker)
// while the word equals `expected`; true when it changed.
Napi::Value FutexWait(const Napi::CallbackInfo& info) {
  auto store = StoreOf(info[0], "futexWait");
  uint32_t off = info[1].As<Napi::Number>().Uint32Value();
  uint32_t waiters = info[2].As<Napi::Number>().Uint32Value();
  uint32_t expected = info[3].As<Napi::Number>().Uint32Value();
  int timeout = info[4].As<Napi::Number>().Int32Value();
  if (off % 4 || waiters % 4 || off + 4 > store->ByteLength() || waiters + 4 > store->ByteLength()) {
    throw Napi::RangeError::New(info.Env(), "futexWait: bad offset");
  }
  int changed = smi_wait_word(static_cast<uint8_t*>(store->Data()), off, waiters, expected, timeout);
  return Napi::Boolean::New(info.Env(), changed != 0);
}

// The async notifier: the futex wait runs on a libuv pool thread and settles a promise, so a
// main thread can await a commit from another process without polling.
class WaitWorker : public Napi::AsyncWorker {
 public:
  WaitWorker(Napi::Env env, std::shared_ptr<v8::BackingStore> store, uint32_t off, uint32_t waiters, uint32_t expected,
             int timeout)
      : Napi::AsyncWorker(env, "smi-pool-wait"),
        deferred_(Napi::Promise::Deferred::New(env)),
        store_(std::move(store)),
        off_(off),
        waiters_(waiters),
        expected_(expected),
        timeout_(timeout) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    changed_ = smi_wait_word(static_cast<uint8_t*>(store_->Data()), off_, waiters_, expected_, timeout_) != 0;
  }
  void OnOK() override { deferred_.Resolve(Napi::Boolean::New(Env(), changed_)); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<v8::BackingStore> store_;
  uint32_t off_, waiters_, expected_;
  int timeout_;
  bool changed_ = false;
};

// futexWaitAsync(sab, wordOffset, waitersOffset, expected, timeoutMs): Promise<boolean>.
Napi::Value FutexWaitAsync(const Napi::CallbackInfo& info) {
  auto store = StoreOf(info[0], "futexWaitAsync");
  uint32_t off = info[1].As<Napi::Number>().Uint32Value();
  uint32_t waiters = info[2].As<Napi::Number>().Uint32Value();
  if (off % 4 || waiters % 4 || off + 4 > store->ByteLength() || waiters + 4 > store->ByteLength()) {
    throw Napi::RangeError::New(info.Env(), "futexWaitAsync: bad offset");
  }
  auto* w = new WaitWorker(info.Env(), std::move(store), off, waiters, info[3].As<Napi::Number>().Uint32Value(),
                           info[4].As<Napi::Number>().Int32Value());
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// Opens channel `index` of the segment behind a SharedArrayBuffer, checking the layout.
smi_channel ChannelOf(Napi::Env env, const std::shared_ptr<v8::BackingStore>& store, uint32_t index) {
  smi_pool pool{static_cast<uint8_t*>(store->Data()), store->ByteLength()};
  char err[256];
  if (smi_pool_check(&pool, err, sizeof err) != 0) throw Napi::Error::New(env, err);
  smi_channel ch;
  if (smi_channel_get(&pool, index, &ch) != 0) {
    throw Napi::RangeError::New(env, "pool: no channel " + std::to_string(index));
  }
  return ch;
}

// reclaimDead(sab, channel): {readers, slots, writers} reclaimed from dead processes.
Napi::Value ReclaimDead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto store = StoreOf(info[0], "reclaimDead");
  smi_channel ch = ChannelOf(env, store, info[1].As<Napi::Number>().Uint32Value());
  smi_reclaim_counts n{0, 0, 0};
  smi_reclaim_dead(&ch, &n);
  Napi::Object out = Napi::Object::New(env);
  out.Set("readers", n.readers);
  out.Set("slots", n.slots);
  out.Set("writers", n.writers);
  return out;
}

uint64_t BigIntU64(const Napi::Value& v) {
  bool lossless;
  return v.As<Napi::BigInt>().Uint64Value(&lossless);
}

// NativeWriter(sab, channel, producerId): the channel's writer role, driven by smi_pool.h.
class NativeWriter : public Napi::ObjectWrap<NativeWriter> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "NativeWriter",
                       {InstanceMethod<&NativeWriter::Loan>("loan"), InstanceMethod<&NativeWriter::LoanWait>("loanWait"),
                        InstanceMethod<&NativeWriter::Commit>("commit"),
                        InstanceMethod<&NativeWriter::Abandon>("abandon"), InstanceMethod<&NativeWriter::Close>("close")});
  }
  explicit NativeWriter(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeWriter>(info) {
    Napi::Env env = info.Env();
    store_ = StoreOf(info[0], "NativeWriter");
    smi_channel ch = ChannelOf(env, store_, info[1].As<Napi::Number>().Uint32Value());
    char err[256];
    if (smi_writer_open(&w_, &ch, info[2].As<Napi::Number>().Uint32Value(), err, sizeof err) != 0) {
      throw Napi::Error::New(env, err);
    }
  }

 private:
  Napi::Value Loan(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), smi_writer_loan(&w_)); }
  Napi::Value LoanWait(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), smi_writer_loan_wait(&w_, info[0].As<Napi::Number>().Int32Value()));
  }
  // commit(slot, length, seq, stampNs, commitNs): 0, or a negative SMI_E* code.
  Napi::Value Commit(const Napi::CallbackInfo& info) {
    int rc = smi_writer_commit(&w_, info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Uint32Value(),
                               info[2].As<Napi::Number>().Uint32Value(), BigIntU64(info[3]), BigIntU64(info[4]));
    return Napi::Number::New(info.Env(), rc);
  }
  Napi::Value Abandon(const Napi::CallbackInfo& info) {
    int32_t slot = info[0].As<Napi::Number>().Int32Value();
    if (slot >= 0 && static_cast<uint32_t>(slot) < w_.ch.slot_count) smi_writer_abandon(&w_, slot);
    return info.Env().Undefined();
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    smi_writer_close(&w_);
    return info.Env().Undefined();
  }

  std::shared_ptr<v8::BackingStore> store_;  // keeps the mapping alive while this writer lives
  smi_writer w_{};
};

// NativeReader(sab, channel, mode): a reader entry, driven by smi_pool.h. mode: 0 any reserved,
// 1 sequential, 2 latest.
class NativeReader : public Napi::ObjectWrap<NativeReader> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(
        env, "NativeReader",
        {InstanceMethod<&NativeReader::Next>("next"), InstanceMethod<&NativeReader::Latest>("latest"),
         InstanceMethod<&NativeReader::Release>("release"), InstanceMethod<&NativeReader::Backlog>("backlog"),
         InstanceMethod<&NativeReader::Wait>("wait"), InstanceMethod<&NativeReader::WaitAsync>("waitAsync"),
         InstanceMethod<&NativeReader::Close>("close"), InstanceAccessor<&NativeReader::Entry>("entry"),
         InstanceAccessor<&NativeReader::Mode>("mode"), InstanceAccessor<&NativeReader::Skipped>("skipped"),
         InstanceAccessor<&NativeReader::Torn>("torn")});
  }
  explicit NativeReader(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeReader>(info) {
    Napi::Env env = info.Env();
    store_ = StoreOf(info[0], "NativeReader");
    smi_channel ch = ChannelOf(env, store_, info[1].As<Napi::Number>().Uint32Value());
    // Optional 4th argument: bind only this reserved entry (a handed-over reader).
    int32_t only = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Int32Value() : -1;
    if (smi_reader_open_entry(&r_, &ch, info[2].As<Napi::Number>().Uint32Value(), only) != 0) {
      if (only >= 0) {
        throw Napi::Error::New(env, "pool channel " + std::to_string(ch.index) + ": reader entry " +
                                        std::to_string(only) + " is not reserved and unbound (not handed over)");
      }
      throw Napi::Error::New(env, "pool channel " + std::to_string(ch.index) + ": no free reader entry (at most " +
                                      std::to_string(SMI_MAX_READERS) + ")");
    }
  }

 private:
  Napi::Value Next(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), smi_reader_next(&r_)); }
  Napi::Value Latest(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), smi_reader_latest(&r_)); }
  Napi::Value Release(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), smi_reader_release(&r_, info[0].As<Napi::Number>().Int32Value()));
  }
  Napi::Value Backlog(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), smi_reader_backlog(&r_)); }
  Napi::Value Wait(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), smi_reader_wait(&r_, info[0].As<Napi::Number>().Int32Value()) != 0);
  }
  Napi::Value WaitAsync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (smi_reader_backlog(&r_) > 0) {
      auto d = Napi::Promise::Deferred::New(env);
      d.Resolve(Napi::Boolean::New(env, true));
      return d.Promise();
    }
    auto* w = new WaitWorker(env, store_, r_.ch.hdr + SMI_CH_COMMIT_SEQ, r_.ch.hdr + SMI_CH_COMMIT_WAITERS, smi_reader_cursor(&r_),
                             info[0].As<Napi::Number>().Int32Value());
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (!closed_) smi_reader_close(&r_);
    closed_ = true;
    return info.Env().Undefined();
  }
  Napi::Value Entry(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), r_.entry); }
  Napi::Value Mode(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), r_.mode); }
  Napi::Value Skipped(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(r_.skipped));
  }
  Napi::Value Torn(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(r_.torn)); }

  std::shared_ptr<v8::BackingStore> store_;
  smi_reader r_{};
  bool closed_ = false;
};

// setThreadRealtime(priority): the calling thread to SCHED_FIFO at `priority` (1-99), or back to
// SCHED_OTHER for 0. Returns "" or why not (EPERM without CAP_SYS_NICE or an RT budget). Linux
// scheduling policies are per thread: sched_setscheduler(0, ...) changes only the caller.
Napi::Value SetThreadRealtime(const Napi::CallbackInfo& info) {
  int priority = info[0].As<Napi::Number>().Int32Value();
  if (priority < 0 || priority > 99) throw Napi::RangeError::New(info.Env(), "setThreadRealtime: priority 0-99");
  sched_param p{};
  p.sched_priority = priority;
  int rc = sched_setscheduler(0, priority > 0 ? SCHED_FIFO : SCHED_OTHER, &p);
  return Napi::String::New(info.Env(), rc == 0 ? "" : std::string(strerror(errno)));
}

// threadPolicy(): the calling thread's policy and priority, e.g. "fifo 10" or "other 0".
Napi::Value ThreadPolicy(const Napi::CallbackInfo& info) {
  int policy = sched_getscheduler(0);
  sched_param p{};
  sched_getparam(0, &p);
  std::string name = policy == SCHED_FIFO ? "fifo" : policy == SCHED_RR ? "rr" : "other";
  return Napi::String::New(info.Env(), name + " " + std::to_string(p.sched_priority));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("layoutVersion", Napi::Number::New(env, SMI_LAYOUT_VERSION));
  exports.Set("createSegment", Napi::Function::New<CreateSegment>(env, "createSegment"));
  exports.Set("openSegment", Napi::Function::New<OpenSegment>(env, "openSegment"));
  exports.Set("unlinkSegment", Napi::Function::New<UnlinkSegment>(env, "unlinkSegment"));
  exports.Set("futexWake", Napi::Function::New<FutexWake>(env, "futexWake"));
  exports.Set("futexWait", Napi::Function::New<FutexWait>(env, "futexWait"));
  exports.Set("futexWaitAsync", Napi::Function::New<FutexWaitAsync>(env, "futexWaitAsync"));
  exports.Set("reclaimDead", Napi::Function::New<ReclaimDead>(env, "reclaimDead"));
  exports.Set("setThreadRealtime", Napi::Function::New<SetThreadRealtime>(env, "setThreadRealtime"));
  exports.Set("threadPolicy", Napi::Function::New<ThreadPolicy>(env, "threadPolicy"));
  exports.Set("NativeWriter", NativeWriter::Init(env));
  exports.Set("NativeReader", NativeReader::Init(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(smi_pool, Init)
