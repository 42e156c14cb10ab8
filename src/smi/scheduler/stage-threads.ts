/**
 * Starting and stopping the stage threads: each is a long-lived worker that reports `ready` (or
 * an error, which fails the start naming the stage) and `stopped`. Stopping is bounded: a thread
 * that does not stop in time is terminated, so no exit path waits on a busy worker. A thread that
 * ends on its own after it was ready (it failed, crashed or was terminated) is reported once
 * through `onDeath`, for the supervisor to replace it. A standby thread reports `standby` and
 * becomes ready when activated.
 */
import { Worker, type TransferListItem } from 'node:worker_threads';
import type { Logger } from '../../telemetry/logger.js';
import { workerFile } from '../../workers/worker-file.js';
import type { FromStageThread, SplitReport, StageThreadData } from '../../workers/stage-thread-protocol.js';

export type ReadyMessage = Extract<FromStageThread, { type: 'ready' }>;

export interface StageThreadHandlers {
  onPlan?: (targetAccel: number, decision: string) => void;
  onGeneration?: (m: Extract<FromStageThread, { type: 'generation' }>) => void;
  onSplit?: (report: SplitReport | undefined) => void;
  /** The thread ended after it was ready (or as a standby) without being asked to: why. */
  onDeath?: (thread: StageThread, why: string) => void;
}

export class StageThread {
  readonly worker: Worker;
  private readonly ready: Promise<ReadyMessage>;
  private readonly standby: Promise<void>;
  private readonly exited: Promise<number>;
  private stopped = false;
  private stopRequested = false;
  private wasReady = false;
  private wasStandby = false;
  private deathReported = false;
  /** The failure the thread reported or raised, if any. */
  private failure: string | undefined;
  /** The thread's last 'ready' message (its reader entries, what it resumed from). */
  readyMessage: ReadyMessage | undefined;

  constructor(
    readonly name: string,
    file: 'tracker-worker' | 'lidar-worker',
    data: StageThreadData,
    private readonly log: Logger,
    handlers: StageThreadHandlers,
  ) {
    this.worker = new Worker(workerFile(file), { workerData: data });
    this.exited = new Promise((resolve) => this.worker.once('exit', resolve));
    let standbyResolve: () => void = () => {};
    this.standby = new Promise((resolve) => (standbyResolve = resolve));
    this.ready = new Promise((resolve, reject) => {
      this.worker.on('message', (m: FromStageThread) => {
        switch (m.type) {
          case 'ready':
            this.wasReady = true;
            this.readyMessage = m;
            resolve(m);
            break;
          case 'standby':
            this.wasStandby = true;
            standbyResolve();
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
          case 'failed':
            this.failure = `${m.stage}: ${m.message.split('\n')[0]}`;
            log.error({ thread: name, stage: m.stage, error: m.message }, 'stage thread failed');
            // It touches nothing more after saying so: its replacement need not wait for the exit.
            this.reportDeath(handlers, this.failure);
            break;
          case 'stopped':
            this.stopped = true;
            break;
        }
      });
      this.worker.once('error', (err) => {
        this.failure ??= `uncaught: ${err.message}`;
        log.error({ thread: name, err }, 'stage thread crashed');
        reject(err);
      });
      this.worker.once('exit', (code) => {
        if (this.stopped || this.stopRequested) return;
        if (!this.wasReady && !this.wasStandby) {
          reject(new Error(`stage thread '${name}' exited (code ${code}) before it was ready`));
          return;
        }
        this.reportDeath(handlers, this.failure ?? `exited (code ${code})`);
      });
    });
    // A crash after start is logged by the handlers above; the promise must not go unhandled.
    this.ready.catch(() => {});
  }

  private reportDeath(handlers: StageThreadHandlers, why: string): void {
    if (this.deathReported || this.stopped || this.stopRequested) return;
    this.deathReported = true;
    handlers.onDeath?.(this, why);
  }

  whenReady(): Promise<ReadyMessage> {
    return this.ready;
  }

  /** Resolves when a standby thread is attached and waiting (never for one started active). */
  whenStandby(): Promise<void> {
    return this.standby;
  }

  postMessage(message: unknown, transfer: readonly TransferListItem[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  /** Ends the thread at once, as a crash would (fault injection). */
  async terminate(): Promise<void> {
    await this.worker.terminate();
  }

  /** Waits up to `graceMs` for the thread to end on its own (the caller set the stop flag), then terminates it. */
  async stop(graceMs: number): Promise<void> {
    this.stopRequested = true;
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
    const r = await Promise.race([this.exited, timer]);
    if (r === 'timeout') {
      this.log.warn({ thread: this.name, graceMs }, 'stage thread did not stop in time; terminated');
      await this.worker.terminate();
    }
  }
}
