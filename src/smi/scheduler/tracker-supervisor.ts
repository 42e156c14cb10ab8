/**
 * Keeps the tracker's thread (fusion and planning, critical) running: when it dies after start
 * (an exception out of its loop, a crash, `terminate`), the supervisor
 *   1. hands its pool readers over (what it had taken is released and counted lost, what it had
 *      not read yet stays queued) and settles its open frames, so no slot leaks and idle
 *      detection goes on;
 *   2. activates the hot standby (a thread already loaded and attached, waiting) with the current
 *      generation's data, or starts a new thread when there is none; the replacement binds the
 *      same reader entries and resumes from the checkpoint the tracker keeps in shared memory
 *      (TrackerStateBlock), so track ids and tracks go on;
 *   3. records the outage (log, metrics, status) and loads a new standby.
 * After `maxRestarts` deaths within `windowS` it gives up: the tracker stays down, status says so.
 */
import type { SlotPool } from '../../pool/slot-pool.js';
import type { Logger } from '../../telemetry/logger.js';
import type { PipelineMetrics } from '../../telemetry/pipeline-metrics.js';
import type { SchedulerBlock } from '../../workers/scheduler-block.js';
import type { TrackerStateBlock } from '../../workers/tracker-state-block.js';
import type { ResumedFrom, TrackerThreadData } from '../../workers/stage-thread-protocol.js';
import type { RecoverySpec } from '../spec/scheduler-spec.js';
import { StageThread, type ReadyMessage, type StageThreadHandlers } from './stage-threads.js';

/** One death of the tracker thread and what followed (status `recovery.events`). */
export interface RecoveryEvent {
  thread: string;
  /** When it died (ISO time). */
  at: string;
  reason: string;
  /** replaced; replacing (not running yet); gave_up (the restart budget was spent, or the replacement failed). */
  outcome: 'replacing' | 'replaced' | 'gave_up';
  /** A hot standby took over (else a new thread was started). */
  standby: boolean;
  /** Death → the replacement running, ms. */
  gapMs: number | undefined;
  /** Death → the replacement's first published output, ms. */
  firstOutputMs: number | undefined;
  /** Frames the dead thread had taken and not finished (lost, not fused). */
  lostFrames: number;
  /** Pool slots it held, released by the handover. */
  releasedSlots: number;
  resumed: ResumedFrom | undefined;
}

/** The supervisor's state as status reports it. */
export interface RecoveryStatus {
  state: 'running' | 'replacing' | 'failed';
  restarts: number;
  standbyReady: boolean;
  events: RecoveryEvent[];
}

const EVENTS_KEPT = 20;
/** The first standby loads this long after the tracker started. */
const STANDBY_DELAY_MS = 5000;

export interface TrackerSupervisorDeps {
  pool: SlotPool;
  block: SchedulerBlock;
  /** The tracker's checkpoint (what the dead thread had saved). */
  state: TrackerStateBlock;
  metrics: PipelineMetrics;
  log: Logger;
  policy: RecoverySpec;
  /** The data a thread starts under now (the running generation's parameters). */
  currentData: () => TrackerThreadData;
  handlers: Omit<StageThreadHandlers, 'onDeath'>;
  /** A (replacement) thread is ready. */
  onReady: (ready: ReadyMessage) => void;
  /** Publishes what the output ring holds now (the dead thread's last outputs). */
  flushOutputs: () => void;
}

export class TrackerSupervisor {
  private active: StageThread | undefined;
  private standby: StageThread | undefined;
  /** The standby is loaded, warmed up and waiting (else it is still loading, or there is none). */
  private standbyWaiting = false;
  private stopping = false;
  private state: RecoveryStatus['state'] = 'running';
  private readonly deaths: number[] = [];
  private readonly events: RecoveryEvent[] = [];
  private restarts = 0;
  /** The event waiting for the replacement's first output, and when its thread died. */
  private awaitingOutput: { event: RecoveryEvent; diedAt: number } | undefined;

  constructor(private readonly deps: TrackerSupervisorDeps) {
    deps.metrics.threadUp.set({ thread: 'tracker' }, 1);
  }

  /** Starts the tracker thread (and, by policy, its standby); resolves when the tracker is ready. */
  async start(): Promise<ReadyMessage> {
    this.active = this.spawn({ ...this.deps.currentData(), standby: false, resume: false });
    const ready = await this.active.whenReady();
    // Loaded once the service has settled (a short-lived run, such as a test, never pays for it).
    if (this.deps.policy.restart && this.deps.policy.standby)
      setTimeout(() => this.spawnStandby(), STANDBY_DELAY_MS).unref();
    return ready;
  }

  /** It gave up: the tracker is down for good (replay must not wait for it). */
  get failed(): boolean {
    return this.state === 'failed';
  }

  postMessage(message: unknown): void {
    if (this.state === 'running') this.active?.postMessage(message);
  }

  /** The output pump published a message: the first after a replacement ends its outage. */
  noteOutput(): void {
    const w = this.awaitingOutput;
    if (!w) return;
    this.awaitingOutput = undefined;
    const ms = performance.now() - w.diedAt;
    w.event.firstOutputMs = round(ms);
    this.deps.metrics.threadOutage.observe({ thread: 'tracker', until: 'first_output' }, ms / 1e3);
  }

  /** Fault injection (tests, bench): the running thread throws mid-frame, or is terminated. */
  async injectFault(fault: 'throw' | 'terminate', doorbell: number): Promise<void> {
    const t = this.active;
    if (!t || this.state !== 'running') throw new Error('inject fault: no tracker thread is running');
    if (fault === 'terminate') {
      await t.terminate();
      return;
    }
    t.postMessage({ type: 'inject-fault', fault: 'throw' });
    this.deps.block.ring(doorbell);
  }

  status(): RecoveryStatus {
    return {
      state: this.state,
      restarts: this.restarts,
      standbyReady: this.standbyWaiting,
      events: this.events.map((e) => ({ ...e })),
    };
  }

  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    const standby = this.standby;
    this.standby = undefined;
    this.standbyWaiting = false;
    // A standby holds nothing (no reader, no socket) and may be busy warming up: end it at once.
    await Promise.all([this.active?.stop(graceMs), standby?.terminate()]);
  }

  private spawn(data: TrackerThreadData): StageThread {
    return new StageThread('tracker', 'tracker-worker', data, this.deps.log, {
      ...this.deps.handlers,
      onDeath: (t, why) => void this.died(t, why),
    });
  }

  private spawnStandby(): void {
    if (this.stopping || this.standby) return;
    const t = this.spawn({ ...this.deps.currentData(), standby: true, resume: true });
    this.standby = t;
    void t.whenStandby().then(() => {
      if (this.standby === t) this.standbyWaiting = true;
    });
    t.whenReady().catch((err: unknown) => {
      if (this.standby !== t) return;
      this.standby = undefined;
      this.deps.log.error(
        { err },
        'tracker standby thread failed to start; failover will start a new thread',
      );
    });
  }

  private async died(t: StageThread, why: string): Promise<void> {
    if (this.stopping) return;
    if (t === this.standby) {
      this.standby = undefined;
      this.standbyWaiting = false;
      this.deps.log.warn({ reason: why }, 'tracker standby thread died; loading another');
      this.noteDeath();
      if (this.withinBudget()) this.spawnStandby();
      return;
    }
    if (t !== this.active) return;
    const diedAt = performance.now();
    const { pool, block, metrics, log, policy } = this.deps;
    const data = this.deps.currentData();
    // Hand its readers over and settle what it had taken (it said it failed, or it exited: either
    // way it touches nothing more). Lost: what it finished after its last checkpoint (fused into
    // state that died with it) and what it had taken and not finished.
    const readers = t.readyMessage?.readers ?? [];
    const saved = new Uint32Array(data.inputs.length);
    const hasSave = this.deps.state.savedConsumed(saved);
    let releasedSlots = 0;
    let lostFrames = 0;
    data.inputs.forEach((input, k) => {
      if (hasSave) lostFrames += (block.consumedOf(input.channel) - saved[k]!) >>> 0;
    });
    for (const r of readers) {
      releasedSlots += pool.handOverReader(r.channel, r.entry);
      lostFrames += block.settleOpen(r.channel);
    }
    block.setBusy(data.thread, false);
    metrics.threadUp.set({ thread: 'tracker' }, 0);
    metrics.threadLostFrames.inc({ thread: 'tracker' }, lostFrames);
    this.noteDeath();
    const standby = policy.restart ? this.standby : undefined;
    const event: RecoveryEvent = {
      thread: 'tracker',
      at: new Date().toISOString(),
      reason: why,
      outcome: 'replacing',
      standby: standby !== undefined,
      gapMs: undefined,
      firstOutputMs: undefined,
      lostFrames,
      releasedSlots,
      resumed: undefined,
    };
    this.record(event);
    // What the dead thread published goes out first; any later output is its replacement's.
    this.deps.flushOutputs();
    if (!policy.restart || !this.withinBudget()) {
      this.giveUp(
        event,
        policy.restart
          ? `${this.deaths.length} deaths within ${policy.windowS} s`
          : 'scheduler.recovery.restart is off',
      );
      return;
    }
    this.state = 'replacing';
    this.restarts++;
    this.awaitingOutput = { event, diedAt };
    log.error(
      { thread: 'tracker', reason: why, lostFrames, releasedSlots, standby: event.standby },
      'tracker thread died; handing its inputs to a replacement',
    );
    const next: TrackerThreadData = {
      ...data,
      standby: false,
      resume: true,
      readerEntries: readers.map((r) => r.entry),
    };
    let replacement: StageThread;
    if (standby) {
      this.standby = undefined;
      this.standbyWaiting = false;
      replacement = standby;
      standby.postMessage({ type: 'activate', data: next });
    } else {
      replacement = this.spawn(next);
    }
    this.active = replacement;
    let ready: ReadyMessage;
    try {
      ready = await replacement.whenReady();
    } catch (err) {
      this.giveUp(event, `the replacement failed to start: ${(err as Error).message}`);
      return;
    }
    if (this.stopping) return;
    const gap = performance.now() - diedAt;
    event.gapMs = round(gap);
    event.resumed = ready.resumed;
    event.outcome = 'replaced';
    this.state = 'running';
    metrics.threadUp.set({ thread: 'tracker' }, 1);
    metrics.threadRestarts.inc({ thread: 'tracker', outcome: 'replaced' });
    metrics.threadOutage.observe({ thread: 'tracker', until: 'gap' }, gap / 1e3);
    log.info(
      {
        thread: 'tracker',
        gapMs: event.gapMs,
        standby: event.standby,
        resumedTracks: ready.resumed?.tracks,
        checkpointAgeMs: ready.resumed?.ageMs,
      },
      'tracker thread replaced',
    );
    this.deps.onReady(ready);
    // Load the next standby once the replacement runs (its module loading would compete with it).
    if (policy.standby) setTimeout(() => this.spawnStandby(), 200).unref();
  }

  private giveUp(event: RecoveryEvent, why: string): void {
    this.state = 'failed';
    event.outcome = 'gave_up';
    this.deps.metrics.threadRestarts.inc({ thread: 'tracker', outcome: 'gave_up' });
    this.deps.log.error(
      { thread: 'tracker', reason: event.reason, why },
      'tracker thread died and is not replaced: no tracks or plans are published',
    );
  }

  private noteDeath(): void {
    const now = performance.now();
    this.deaths.push(now);
    const horizon = now - this.deps.policy.windowS * 1e3;
    while (this.deaths.length > 0 && this.deaths[0]! < horizon) this.deaths.shift();
  }

  private withinBudget(): boolean {
    return this.deaths.length <= this.deps.policy.maxRestarts;
  }

  private record(event: RecoveryEvent): void {
    this.events.push(event);
    if (this.events.length > EVENTS_KEPT) this.events.shift();
  }
}

const round = (ms: number): number => Math.round(ms * 100) / 100;
