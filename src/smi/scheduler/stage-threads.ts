/**
 * Starting and stopping the stage threads: each is a long-lived worker that reports `ready` (or
 * an error, which fails the start naming the stage) and `stopped`. Stopping is bounded: a thread
 * that does not stop in time is terminated, so no exit path waits on a busy worker.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../telemetry/logger.js';
import { workerFile } from '../../workers/worker-file.js';
import type { FromStageThread, SplitReport, StageThreadData } from '../../workers/stage-thread-protocol.js';

export interface StageThreadHandlers {
  onOutputs?: (parts: Uint8Array[]) => void;
  onPlan?: (targetAccel: number, decision: string) => void;
  onGeneration?: (m: Extract<FromStageThread, { type: 'generation' }>) => void;
  onSplit?: (report: SplitReport | undefined) => void;
}

export class StageThread {
  readonly worker: Worker;
  private readonly ready: Promise<Extract<FromStageThread, { type: 'ready' }>>;
  private readonly exited: Promise<number>;
  private stopped = false;

  constructor(
    readonly name: string,
    file: 'tracker-worker' | 'lidar-worker',
    data: StageThreadData,
    private readonly log: Logger,
    handlers: StageThreadHandlers,
  ) {
    this.worker = new Worker(workerFile(file), { workerData: data });
    this.exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.ready = new Promise((resolve, reject) => {
      this.worker.on('message', (m: FromStageThread) => {
        switch (m.type) {
          case 'ready':
            resolve(m);
            break;
          case 'outputs':
            handlers.onOutputs?.(m.parts);
            break;
          case 'plan':
            handlers.onPlan?.(m.targetAccel, m.decision);
            break;
          case 'generation':
            handlers.onGeneration?.(m);
            break;
          case 'split':
            handlers.onSplit?.(m.report);
            break;
          case 'error':
            log.error({ thread: name, stage: m.stage, error: m.message }, 'stage thread failed');
            reject(new Error(`stage thread '${name}' (${m.stage}): ${m.message.split('\n')[0]}`));
            break;
          case 'stopped':
            this.stopped = true;
            break;
        }
      });
      this.worker.once('error', (err) => {
        log.error({ thread: name, err }, 'stage thread crashed');
        reject(err);
      });
      this.worker.once('exit', (code) => {
        if (!this.stopped)
          reject(new Error(`stage thread '${name}' exited (code ${code}) before it was ready`));
      });
    });
    // A crash after start is logged by the handlers above; the promise must not go unhandled.
    this.ready.catch(() => {});
  }

  whenReady(): Promise<Extract<FromStageThread, { type: 'ready' }>> {
    return this.ready;
  }

  postMessage(
    message: unknown,
    transfer: readonly import('node:worker_threads').TransferListItem[] = [],
  ): void {
    this.worker.postMessage(message, transfer);
  }

  /** Waits up to `graceMs` for the thread to end on its own (the caller set the stop flag), then terminates it. */
  async stop(graceMs: number): Promise<void> {
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
    const r = await Promise.race([this.exited, timer]);
    if (r === 'timeout') {
      this.log.warn({ thread: this.name, graceMs }, 'stage thread did not stop in time; terminated');
      await this.worker.terminate();
    }
  }
}
