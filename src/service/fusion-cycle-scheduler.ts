import { Piscina } from 'piscina';
import type { SlotPool, ChannelReader, Descriptor } from '../pool/slot-pool.js';
import { emptyDescriptor } from '../pool/slot-pool.js';
import type { PipelineSpec } from '../smi/spec/pipeline-spec.js';
import type { OutputPublisher } from '../io/output-publisher.js';
import type { PipelineMetrics } from '../telemetry/pipeline-metrics.js';
import type { Logger } from '../telemetry/logger.js';
import { LatencyHistogram } from '../telemetry/latency-histogram.js';
import { encodeHeader, outputTopic } from '../wire/codec.js';
import { EGO, TRACKS_LAYOUT } from '../wire/layouts.js';
import { planOutput } from '../planning/plan-output.js';
import { WIRE_VERSION, type PlanHeader, type TracksHeader } from '../wire/header.js';
import { workerFile } from '../workers/worker-file.js';
import {
  BATCH,
  type FusionResult,
  type FusionTask,
  type PlanTask,
  type PlanTaskResult,
} from '../workers/fusion-task.js';

/** What the status line and `status` show about the fusion side. */
export interface FusionStatus {
  cycles: number;
  tracks: number;
  decision: string;
  leadId: number;
  targetAccel: number;
  ttc: number;
  plans: number;
}

export interface SchedulerOptions {
  /**
   * Deterministic mode (replay at max speed): every trigger gets a cycle of exactly the messages
   * committed before it, and no wall-clock watchdog runs. Live mode instead folds triggers that
   * arrive while fusion is busy into the next cycle, to keep latency low.
   */
  deterministic?: boolean;
  /** Live mode: run a cycle when measurements have waited this long with no trigger (ms). */
  maxWaitMs?: number;
}

interface PlanInput {
  tracks: Float32Array;
  quality: Float32Array;
  count: number;
  ego: Float64Array;
  triggerNs: bigint;
}

type PlanListener = (targetAccel: number, decision: string) => void;

let nextConfigId = 1;
const bigMax = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/**
 * Takes committed descriptors from every channel, groups them into fusion cycles at trigger
 * sensors, runs each cycle on the fusion worker (which reads payloads in place), then planning,
 * and publishes `out/tracks` and `out/plan`. One fusion cycle and one planning run are in flight
 * at a time: the tracker is sequential, and the planner only wants the newest tracks.
 */
export class FusionCycleScheduler {
  private readonly fusionPool: Piscina<FusionTask, FusionResult>;
  private readonly planningPool: Piscina<PlanTask, PlanTaskResult>;
  private readonly readers: ChannelReader[];
  private readonly isTrigger: Uint8Array;
  private readonly latestAccess: Uint8Array;
  /** 1 for channels an external producer writes straight into the pool. */
  private readonly external: Uint8Array;
  private admitExternal: ((sensorIndex: number, d: Descriptor) => boolean) | undefined;
  private readonly halfSlots: Int32Array;
  private readonly egoViews: (Float64Array[] | undefined)[];
  private readonly configId = nextConfigId++;
  private readonly desc: Descriptor = emptyDescriptor();
  private readonly deterministic: boolean;
  private readonly maxWaitNs: bigint;

  // Pending measurements, struct-of-arrays, capacity = every slot of every channel.
  private readonly pSensor: Int32Array;
  private readonly pSlot: Int32Array;
  private readonly pLength: Int32Array;
  private readonly pStamp: BigInt64Array;
  private readonly pCommit: BigInt64Array;
  private readonly pPerChannel: Int32Array;
  private pCount = 0;
  /** Pending counts at which a trigger arrived, and the trigger's stamp. */
  private readonly boundaries: { at: number; stampNs: bigint }[] = [];

  /** Newest ego record among the measurements already dispatched to fusion. */
  private cycleEgo = new Float64Array(EGO.stride);
  private fusionBusy = false;
  private planBusy = false;
  /** Track lists waiting for the planner: at most one in live mode (the newest), all in deterministic mode. */
  private readonly planQueue: PlanInput[] = [];
  private stopping = false;
  private resetNext = false;
  private lastDispatchNs = process.hrtime.bigint();
  private watchdog: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  private planListener: PlanListener = () => {};
  private tracksSeq = 0;
  private planSeq = 0;

  readonly e2eWindow = new LatencyHistogram();
  readonly status: FusionStatus = {
    cycles: 0,
    tracks: 0,
    decision: '-',
    leadId: -1,
    targetAccel: 0,
    ttc: -1,
    plans: 0,
  };

  constructor(
    private readonly spec: PipelineSpec,
    private readonly pool: SlotPool,
    private readonly metrics: PipelineMetrics,
    private readonly log: Logger,
    private readonly publisher: OutputPublisher,
    options: SchedulerOptions = {},
  ) {
    this.deterministic = options.deterministic ?? false;
    this.maxWaitNs = BigInt(Math.round((options.maxWaitMs ?? 100) * 1e6));
    const sensors = spec.sensors;
    this.readers = sensors.map((_, i) => pool.reader(i));
    this.isTrigger = Uint8Array.from(sensors, (s) => (spec.fusion.triggers.includes(s.id) ? 1 : 0));
    this.external = Uint8Array.from(sensors, (s) => (spec.channels[s.id]!.producer === 'external' ? 1 : 0));
    this.latestAccess = Uint8Array.from(sensors, (s) => (spec.channels[s.id]!.access === 'latest' ? 1 : 0));
    this.halfSlots = Int32Array.from(pool.channels, (c) => Math.max(1, c.slotCount >> 1));
    this.egoViews = sensors.map((s, i) =>
      s.kind === 'ego'
        ? Array.from(
            { length: pool.channels[i]!.slotCount },
            (_, slot) => new Float64Array(pool.sab, pool.slotOffset(i, slot), EGO.stride),
          )
        : undefined,
    );
    const capacity = pool.channels.reduce((n, c) => n + c.slotCount, 0);
    this.pSensor = new Int32Array(capacity);
    this.pSlot = new Int32Array(capacity);
    this.pLength = new Int32Array(capacity);
    this.pStamp = new BigInt64Array(capacity);
    this.pCommit = new BigInt64Array(capacity);
    this.pPerChannel = new Int32Array(sensors.length);
    // One thread each: the tracker keeps state across cycles; idleTimeout set explicitly so the
    // thread (and that state) is never reaped while the service runs.
    this.fusionPool = new Piscina({
      filename: workerFile('fusion-worker'),
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: 60_000,
    });
    this.planningPool = new Piscina({
      filename: workerFile('planning-worker'),
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: 60_000,
    });
    if (!this.deterministic) {
      this.watchdog = setInterval(() => this.checkWaiting(), 25);
      this.watchdog.unref();
    }
  }

  /** Called with the plan's commanded acceleration (closed-loop simulation). */
  onPlan(listener: PlanListener): void {
    this.planListener = listener;
  }

  /** Restarts the tracker at the next cycle (a simulated drive looped back to its start). */
  resetTracker(): void {
    this.resetNext = true;
  }

  /**
   * A message was committed on `sensorIndex`'s channel: by ingest (called synchronously), or by an
   * external producer (called by `watchExternalChannels`).
   */
  onCommit(sensorIndex: number): void {
    const reader = this.readers[sensorIndex]!;
    const d = this.desc;
    const admit = this.external[sensorIndex] ? this.admitExternal : undefined;
    let taken = 0;
    let stampNs = 0n;
    if (this.latestAccess[sensorIndex]) {
      if (reader.latest(d)) {
        if (admit && !admit(sensorIndex, d)) this.pool.release(d.channel, d.slot);
        else {
          this.replacePending(d);
          taken++;
          stampNs = d.stampNs;
        }
      }
    } else {
      while (reader.next(d)) {
        if (admit && !admit(sensorIndex, d)) {
          this.pool.release(d.channel, d.slot);
          continue;
        }
        this.appendPending(d);
        taken++;
        stampNs = d.stampNs;
      }
    }
    if (this.stopping) return this.releasePending();
    if (taken === 0) return;
    if (this.isTrigger[sensorIndex] || this.pPerChannel[sensorIndex]! >= this.halfSlots[sensorIndex]!) {
      this.boundaries.push({ at: this.pCount, stampNs });
    }
    this.dispatch();
  }

  /**
   * Channels written by an external producer (a C/C++ driver on the shared-memory pool) have no
   * ingest call to announce their commits: wait for them asynchronously (a futex wait off the
   * main thread) and admit each message with `admit` (ingest's checks) before it is fused.
   */
  watchExternalChannels(admit: (sensorIndex: number, d: Descriptor) => boolean): void {
    this.admitExternal = admit;
    this.external.forEach((isExternal, i) => {
      if (isExternal) void this.watchExternal(i);
    });
  }

  private async watchExternal(sensorIndex: number): Promise<void> {
    const reader = this.readers[sensorIndex]!;
    while (!this.stopping) {
      // Bounded waits so that a stop is noticed without a wake from the producer.
      const committed = await reader.waitAsync(200).catch((err: unknown) => {
        this.metrics.stageErrors.inc({ stage: 'external-watch' });
        this.log.error({ err, channel: sensorIndex }, 'waiting for an external producer failed');
        return false;
      });
      if (this.stopping) break;
      if (committed) this.onCommit(sensorIndex);
    }
  }

  private appendPending(d: Descriptor): void {
    const i = this.pCount++;
    this.pSensor[i] = d.channel;
    this.pSlot[i] = d.slot;
    this.pLength[i] = d.length;
    this.pStamp[i] = d.stampNs;
    this.pCommit[i] = d.commitNs;
    this.pPerChannel[d.channel]!++;
  }

  /** `latest` channels keep at most one pending message: the newest. */
  private replacePending(d: Descriptor): void {
    for (let i = 0; i < this.pCount; i++) {
      if (this.pSensor[i] === d.channel) {
        this.pool.release(d.channel, this.pSlot[i]!);
        this.pSlot[i] = d.slot;
        this.pLength[i] = d.length;
        this.pStamp[i] = d.stampNs;
        this.pCommit[i] = d.commitNs;
        return;
      }
    }
    this.appendPending(d);
  }

  /** Live mode: measurements waiting with no trigger (e.g. trigger sensors silent) still get fused. */
  private checkWaiting(): void {
    if (this.fusionBusy || this.stopping || this.pCount === 0 || this.boundaries.length > 0) return;
    if (process.hrtime.bigint() - this.lastDispatchNs < this.maxWaitNs) return;
    let newest = 0n;
    for (let i = 0; i < this.pCount; i++) newest = bigMax(newest, this.pStamp[i]!);
    this.boundaries.push({ at: this.pCount, stampNs: newest });
    this.dispatch();
  }

  private dispatch(): void {
    if (this.fusionBusy || this.stopping || this.boundaries.length === 0) return;
    let take: number;
    let triggerNs: bigint;
    if (this.deterministic) {
      const b = this.boundaries.shift()!;
      take = b.at;
      triggerNs = b.stampNs;
      for (const rest of this.boundaries) rest.at -= take;
    } else {
      // Everything committed so far rides along; earlier triggers fold into this cycle.
      take = this.pCount;
      triggerNs = this.boundaries[this.boundaries.length - 1]!.stampNs;
      if (this.boundaries.length > 1) this.metrics.fusionCoalesced.inc(this.boundaries.length - 1);
      this.boundaries.length = 0;
    }
    const order = Array.from({ length: take }, (_, i) => i).sort((a, b) =>
      this.pStamp[a]! < this.pStamp[b]! ? -1 : this.pStamp[a]! > this.pStamp[b]! ? 1 : a - b,
    );
    const batch = new Int32Array(take * BATCH.stride);
    const stamps = new BigInt64Array(take);
    const commits = new BigInt64Array(take);
    let newest = 0n;
    let egoStamp = -1n;
    const ego = new Float64Array(EGO.stride);
    ego.set(this.cycleEgo);
    order.forEach((src, k) => {
      const views = this.egoViews[this.pSensor[src]!];
      // The plan of this cycle uses the ego state of this cycle, whatever ingest has done since.
      if (views && this.pStamp[src]! > egoStamp) {
        egoStamp = this.pStamp[src]!;
        ego.set(views[this.pSlot[src]!]!);
      }
      batch[k * BATCH.stride + BATCH.sensor] = this.pSensor[src]!;
      batch[k * BATCH.stride + BATCH.slot] = this.pSlot[src]!;
      batch[k * BATCH.stride + BATCH.length] = this.pLength[src]!;
      stamps[k] = this.pStamp[src]!;
      commits[k] = this.pCommit[src]!;
      newest = bigMax(newest, this.pStamp[src]!);
      this.pPerChannel[this.pSensor[src]!]!--;
    });
    this.shiftPending(take);
    this.cycleEgo = ego;
    this.fusionBusy = true;
    const dispatchNs = process.hrtime.bigint();
    this.lastDispatchNs = dispatchNs;
    const task: FusionTask = {
      sab: this.pool.sab,
      configId: this.configId,
      sensors: this.spec.sensors,
      maxTracks: this.spec.fusion.maxTracks,
      reset: this.resetNext,
      batch,
      stamps,
      outputStampNs: newest,
    };
    this.resetNext = false;
    this.fusionPool.run(task).then(
      (result) => this.fusionDone(result, batch, commits, triggerNs, newest, ego, dispatchNs),
      (err: unknown) => this.fusionFailed(err, batch),
    );
  }

  private shiftPending(n: number): void {
    this.pSensor.copyWithin(0, n, this.pCount);
    this.pSlot.copyWithin(0, n, this.pCount);
    this.pLength.copyWithin(0, n, this.pCount);
    this.pStamp.copyWithin(0, n, this.pCount);
    this.pCommit.copyWithin(0, n, this.pCount);
    this.pCount -= n;
  }

  private releaseBatch(batch: Int32Array): void {
    for (let i = 0; i < batch.length; i += BATCH.stride) {
      this.pool.release(batch[i + BATCH.sensor]!, batch[i + BATCH.slot]!);
    }
  }

  private fusionDone(
    r: FusionResult,
    batch: Int32Array,
    commits: BigInt64Array,
    triggerNs: bigint,
    newest: bigint,
    ego: Float64Array,
    dispatchNs: bigint,
  ): void {
    for (let i = 0; i < commits.length; i++)
      this.metrics.syncLatency.observe(Number(r.startNs - commits[i]!) / 1e9);
    this.metrics.handoffLatency.observe(Number(r.startNs - dispatchNs) / 1e9);
    this.releaseBatch(batch);
    const publishedNs = process.hrtime.bigint();
    this.publisher.publish([
      Buffer.from(outputTopic('tracks')),
      Buffer.from(
        encodeHeader({
          v: WIRE_VERSION,
          kind: 'tracks',
          seq: this.tracksSeq++,
          stampNs: newest,
          frame: 'base_link',
          fields: TRACKS_LAYOUT.fields,
          stride: TRACKS_LAYOUT.stride,
          count: r.count,
          publishedNs,
        } satisfies TracksHeader),
      ),
      Buffer.from(r.tracks.buffer, r.tracks.byteOffset, r.count * TRACKS_LAYOUT.stride),
    ]);
    this.metrics.published.inc({ topic: 'out/tracks' });
    this.metrics.fusionLatency.observe(Number(publishedNs - newest) / 1e9);
    this.metrics.fusionCycles.inc();
    this.metrics.tracks.set(r.count);
    this.metrics.fusionDroppedOutOfSequence.set(r.outOfSequence);
    this.status.cycles++;
    this.status.tracks = r.count;
    this.fusionBusy = false;
    this.plan({ tracks: r.tracks, quality: r.quality, count: r.count, ego, triggerNs });
    this.dispatch();
    this.notifyIdle();
  }

  private fusionFailed(err: unknown, batch: Int32Array): void {
    this.releaseBatch(batch);
    this.metrics.stageErrors.inc({ stage: 'fusion' });
    this.log.error({ err }, 'fusion cycle failed; its measurements were released and the pipeline goes on');
    this.fusionBusy = false;
    this.dispatch();
    this.notifyIdle();
  }

  private plan(input: PlanInput): void {
    if (this.planBusy) {
      // Live: only the newest tracks matter to the planner. Deterministic: every cycle is planned.
      if (!this.deterministic) this.planQueue.length = 0;
      this.planQueue.push(input);
      return;
    }
    this.runPlan(input);
  }

  private runPlan(input: PlanInput): void {
    this.planBusy = true;
    const task: PlanTask = {
      tracks: input.tracks,
      quality: input.quality,
      count: input.count,
      ego: input.ego,
      stampNs: input.triggerNs,
      planning: this.spec.planning,
    };
    this.planningPool.run(task).then(
      (r) => this.planDone(r, input.triggerNs),
      (err: unknown) => {
        this.metrics.stageErrors.inc({ stage: 'planning' });
        this.log.error({ err }, 'planning failed; the pipeline goes on');
        this.planFinished();
      },
    );
  }

  private planDone(task: PlanTaskResult, triggerNs: bigint): void {
    const r = task.result;
    const out = planOutput(r, task.trajectory);
    const publishedNs = process.hrtime.bigint();
    this.publisher.publish([
      Buffer.from(outputTopic('plan')),
      Buffer.from(
        encodeHeader({
          v: WIRE_VERSION,
          kind: 'plan',
          seq: this.planSeq++,
          stampNs: triggerNs,
          ...out.header,
          publishedNs,
        } satisfies PlanHeader),
      ),
      Buffer.from(out.payload.buffer, out.payload.byteOffset, out.payload.byteLength),
    ]);
    const e2eNs = Number(publishedNs - triggerNs);
    this.metrics.published.inc({ topic: 'out/plan' });
    this.metrics.e2eLatency.observe(e2eNs / 1e9);
    this.metrics.plans.inc({ decision: r.decision });
    this.e2eWindow.record(e2eNs);
    Object.assign(this.status, {
      decision: r.decision,
      leadId: r.leadId,
      targetAccel: r.targetAccel,
      ttc: r.ttc,
      plans: this.status.plans + 1,
    });
    this.planListener(r.targetAccel, r.decision);
    this.planFinished();
  }

  private planFinished(): void {
    this.planBusy = false;
    const q = this.planQueue.shift();
    if (q) this.runPlan(q);
    this.notifyIdle();
  }

  private get idle(): boolean {
    return !this.fusionBusy && !this.planBusy && (this.stopping || this.boundaries.length === 0);
  }

  private notifyIdle(): void {
    if (!this.idle) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolves when no cycle is queued or running (used by replay at max speed for backpressure). */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private releasePending(): void {
    for (let i = 0; i < this.pCount; i++) this.pool.release(this.pSensor[i]!, this.pSlot[i]!);
    this.pPerChannel.fill(0);
    this.pCount = 0;
    this.boundaries.length = 0;
  }

  /**
   * Finishes the cycle in flight (bounded by `drainMs`), drops what is still pending (releasing
   * its slots), and stops the worker threads.
   */
  async stop(drainMs = 800): Promise<void> {
    if (this.watchdog) clearInterval(this.watchdog);
    // Run what was triggered before the stop request, then refuse new cycles.
    this.dispatch();
    this.stopping = true;
    await Promise.race([this.whenIdle(), new Promise((r) => setTimeout(r, drainMs))]);
    this.releasePending();
    await Promise.all([this.fusionPool.destroy(), this.planningPool.destroy()]);
  }
}
