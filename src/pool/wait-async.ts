/** Atomics.waitAsync (V8 on Node 20), which the ES2023 lib this project compiles against lacks. */
export type WaitAsyncResult =
  { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };

/** Waits without blocking the event loop while `ta[index]` is `value` (at most `timeoutMs`). */
export const waitAsync = (
  Atomics as unknown as {
    waitAsync(ta: Int32Array, index: number, value: number, timeoutMs?: number): WaitAsyncResult;
  }
).waitAsync;
