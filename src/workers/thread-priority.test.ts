import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

const module = fileURLToPath(new URL('../../dist/workers/thread-priority.js', import.meta.url));

/** Runs `body` (with setThreadClass, threadPolicy, savedThreadPriority in scope) on a fresh thread. */
function onThread(body: string): Promise<unknown> {
  const code = `
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(module)}).then(({ setThreadClass, threadPolicy, savedThreadPriority }) => {
      parentPort.postMessage((() => { ${body} })());
    });`;
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true });
    w.once('message', (m) => {
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

describe('thread priorities', () => {
  it('puts a critical thread on SCHED_FIFO (or says why not and uses nice -10), others back on SCHED_OTHER', async () => {
    const r = (await onThread(`
      const got = setThreadClass(0, 10);
      const critical = threadPolicy();
      const child = setThreadClass(2);
      return { got, critical, child, after: threadPolicy() };
    `)) as { got: string; critical: string; child: string; after: string };
    if (r.got === 'SCHED_FIFO 10') expect(r.critical).toBe('fifo 10');
    else expect(r.got).toMatch(/^SCHED_FIFO 10 refused \(.+\): nice -?\d+|needs the native addon/);
    // A normal-class thread drops an inherited real-time policy and takes its nice value.
    expect(r.after).toBe('other 0');
    expect(r.child).toBe('nice 5');
  });

  it('gives a thread back the scheduling it had', async () => {
    const r = (await onThread(`
      const restore = savedThreadPriority();
      setThreadClass(0, 10);
      restore();
      return threadPolicy();
    `)) as string;
    expect(r).toBe('other 0');
  });
});
