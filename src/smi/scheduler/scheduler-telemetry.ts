/**
 * The main thread's view of the stage threads: it drains their latency samples into Prometheus
 * histograms and per-stage windows (p50/p99 for status), exports their counters from the scheduler
 * block when metrics are read, and builds the status structure (`smi-fusion status`).
 */
import type { SlotPool } from '../../pool/slot-pool.js';
import type { PipelineMetrics } from '../../telemetry/pipeline-metrics.js';
import { LatencyHistogram } from '../../telemetry/latency-histogram.js';
import { PLAN_DECISIONS } from '../../wire/layouts.js';
import {
  SAMPLE,
  STAGE_COUNTER,
  STATUS,
  THREAD_TIMER,
  type SchedulerBlock,
} from '../../workers/scheduler-block.js';
import type { Sample } from '../../workers/sample-ring.js';
import type { SplitReport } from '../../workers/stage-thread-protocol.js';
import type { Span } from '../../workers/span-ring.js';
import type { StageGraph } from './stage-graph.js';

/** Status of one stage (README "Scheduler status"). */
export interface StageStatus {
  name: string;
  type: string;
  class: string;
  budgetMs: number;
  placement: string;
  frames: number;
  /** Input stamp → done, over the last status interval, ms (NaN when nothing ran). */
  latencyP50Ms: number;
  latencyP99Ms: number;
  misses: number;
  shed: { deadline: number; overload: number; superseded: number; late: number; queueFull: number };
  degraded: number;
  rewinds: number;
  queueDepth: number;
  lagging: boolean;
  errors: number;
}

export interface ChannelStatus {
  name: string;
  slots: number;
  slotsInUse: number;
  /** Valid messages refused because every slot was taken (drop-newest, or nothing droppable). */
  droppedNewest: number;
  /** Unread messages a drop-oldest channel gave up for newer ones. */
  droppedOldest: number;
  /** Messages a latest reader skipped for newer ones. */
  skipped: number;
}

export interface SchedulerStatus {
  mode: string;
  overloadLevel: number;
  stages: StageStatus[];
  channels: ChannelStatus[];
  threads: {
    name: string;
    priority: string;
    /** Kernel thread id (0 = not known yet), for per-thread CPU from /proc. */
    tid: number;
    spinningPercent: number;
    workingPercent: number;
  }[];
  samplesDropped: number;
}

/** A sample as other listeners (the bench) see it: names instead of indices. */
export interface NamedSample {
  metric: keyof typeof SAMPLE;
  stage: string;
  valueNs: number;
  /** The pool channel the sample is about, when it is about one. */
  channel: string | undefined;
}

const METRIC_NAMES = Object.keys(SAMPLE) as (keyof typeof SAMPLE)[];

/** A span as listeners (the bench's trace) see it: `kind` is a SPAN value (workers/span-ring.ts). */
export interface ThreadSpan extends Span {
  /** The reporting thread's index (SchedulerStatus.threads order). */
  thread: number;
}

export class SchedulerTelemetry {
  /** Per stage: latency (stamp → done) since the last status read. */
  private readonly windows: LatencyHistogram[];
  /** e2e of critical triggers since the last status line (the status line's figure). */
  readonly e2eWindow = new LatencyHistogram();
  private readonly listeners: ((s: NamedSample) => void)[] = [];
  private readonly spanListeners: ((s: ThreadSpan) => void)[] = [];
  private readonly seen: Uint32Array;
  private readonly seenTimers: bigint[];
  private readonly seenStatus: Float64Array;
  private readonly threadNames: string[];
  readonly priorities: string[];
  private readonly startNs = process.hrtime.bigint();
  private readonly named: NamedSample = { metric: 'sync', stage: '', valueNs: 0, channel: undefined };

  constructor(
    private readonly graph: StageGraph,
    private readonly block: SchedulerBlock,
    private readonly pool: SlotPool,
    private readonly metrics: PipelineMetrics,
    private readonly mode: string,
  ) {
    this.windows = graph.stages.map(() => new LatencyHistogram());
    this.seen = new Uint32Array(block.counters.length);
    this.seenTimers = Array.from({ length: block.timers.length }, () => 0n);
    this.seenStatus = new Float64Array(STATUS.count);
    this.threadNames = Array.from({ length: graph.threads.count }, (_, t) =>
      t === graph.threads.tracker ? 'tracker' : t === graph.threads.lidar ? 'lidar' : 'main',
    );
    this.priorities = this.threadNames.map(() => 'unchanged');
    metrics.addCollector(() => {
      this.drain();
      this.exportCounters();
    });
  }

  /** Exports a split's routing and divergence (as the tracker thread reported it) as gauges. */
  noteSplit(r: SplitReport): void {
    const m = this.metrics;
    r.versions.forEach((version, i) => m.splitRouted.set({ split: r.name, version }, r.routed[i]!));
    const d = r.divergence;
    const measures: [string, number][] = [
      ['frames', d.frames],
      ['frames_differing', d.framesDiffering],
      ['only_primary', d.onlyPrimary],
      ['only_other', d.onlyOther],
      ['position_rms_m', d.position.rms],
      ['velocity_rms_mps', d.velocity.rms],
      ['decisions_differing', d.decisionsDiffering],
    ];
    for (const [measure, value] of measures) m.splitDivergence.set({ split: r.name, measure }, value);
  }

  /** Sees every sample after the metrics do (the bench's histograms, traces). */
  onSample(listener: (s: NamedSample) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Sees every per-frame span the stage threads report (only when the scheduler was started with
   * traceSpans; the object is reused: copy what is kept).
   */
  onSpan(listener: (s: ThreadSpan) => void): void {
    this.spanListeners.push(listener);
  }

  /** Moves every pending sample of every thread into the histograms. Call often (e.g. 20 Hz). */
  drain(): void {
    for (const ring of this.block.samples) ring.drain(this.take);
    this.block.spans.forEach((ring, thread) => {
      const span = this.span;
      span.thread = thread;
      ring.drain((s) => {
        span.kind = s.kind;
        span.stage = s.stage;
        span.channel = s.channel;
        span.startNs = s.startNs;
        span.endNs = s.endNs;
        span.stampNs = s.stampNs;
        for (const l of this.spanListeners) l(span);
      });
    });
  }

  private readonly span: ThreadSpan = {
    thread: 0,
    kind: 0,
    stage: 0,
    channel: 0,
    startNs: 0,
    endNs: 0,
    stampNs: 0,
  };

  private readonly take = (s: Sample): void => {
    const stage = this.graph.stages[s.stage];
    if (!stage) return;
    const labels = { stage: stage.name, class: stage.class };
    const seconds = s.valueNs / 1e9;
    const channel = this.graph.channels[s.extra];
    switch (s.metric) {
      case SAMPLE.sync:
        this.metrics.syncLatency.observe({ stage: stage.name }, seconds);
        break;
      case SAMPLE.handoff:
        this.metrics.handoffLatency.observe({ stage: stage.name }, seconds);
        break;
      case SAMPLE.run:
        this.metrics.stageRun.observe(labels, seconds);
        break;
      case SAMPLE.latency:
        this.metrics.stageLatency.observe(labels, seconds);
        this.windows[s.stage]!.record(s.valueNs);
        break;
      case SAMPLE.fusion:
        this.metrics.fusionLatency.observe(seconds);
        break;
      case SAMPLE.e2e: {
        const trigger = channel?.kind === 'boxes' ? 'lidar' : (channel?.kind ?? 'unknown');
        this.metrics.e2eLatency.observe({ trigger }, seconds);
        if (trigger === 'ego' || trigger === 'radar') this.e2eWindow.record(s.valueNs);
        break;
      }
      case SAMPLE.ingest: {
        const sensor = this.graph.channels[s.extra];
        if (sensor) this.metrics.ingestLatency.observe({ kind: sensor.kind }, seconds);
        break;
      }
    }
    if (this.listeners.length > 0) {
      const n = this.named;
      n.metric = METRIC_NAMES[s.metric] ?? 'sync';
      n.stage = stage.name;
      n.valueNs = s.valueNs;
      n.channel = channel?.name;
      for (const l of this.listeners) l(n);
    }
  };

  private delta(index: number): number {
    const v = Atomics.load(this.block.counters, index);
    const d = (v - this.seen[index]!) >>> 0;
    this.seen[index] = v;
    return d;
  }

  /** Counters in the block → Prometheus (deltas since the last export). */
  private exportCounters(): void {
    const m = this.metrics;
    const C = STAGE_COUNTER;
    for (const s of this.graph.stages) {
      const base = s.index * C.count;
      const labels = { stage: s.name, class: s.class };
      const inc = (counter: { inc(l: object, v: number): void }, field: number, extra: object = {}) => {
        const d = this.delta(base + field);
        if (d > 0) counter.inc({ ...labels, ...extra }, d);
      };
      inc(m.schedFrames, C.frames);
      inc(m.schedMisses, C.misses);
      inc(m.schedDegraded, C.degraded);
      inc(m.schedShed, C.shedDeadline, { reason: 'deadline' });
      inc(m.schedShed, C.shedOverload, { reason: 'overload' });
      inc(m.schedShed, C.shedSuperseded, { reason: 'superseded' });
      inc(m.schedShed, C.tooLate, { reason: 'late' });
      inc(m.schedShed, C.queueFull, { reason: 'queue_full' });
      const rewinds = this.delta(base + C.rewinds);
      if (rewinds > 0) m.schedRewinds.inc({ stage: s.name }, rewinds);
      const lags = this.delta(base + C.lagEpisodes);
      if (lags > 0) m.schedLagEpisodes.inc({ stage: s.name }, lags);
      const errors = this.delta(base + C.errors);
      if (errors > 0) m.stageErrors.inc({ stage: s.name }, errors);
      const hits = this.delta(base + C.spinHits);
      if (hits > 0) m.schedPrefetch.inc({ result: 'hit' }, hits);
      const misses = this.delta(base + C.spinMisses);
      if (misses > 0) m.schedPrefetch.inc({ result: 'miss' }, misses);
      m.schedQueueDepth.set(labels, this.block.get(s.index, C.queueDepth));
      m.schedLagging.set({ stage: s.name }, this.block.get(s.index, C.lagging));
    }
    m.schedOverload.set(this.block.overload);
    for (let t = 0; t < this.graph.threads.count; t++) {
      for (const [activity, timer] of [
        ['spinning', THREAD_TIMER.spinning],
        ['working', THREAD_TIMER.working],
      ] as const) {
        const k = t * THREAD_TIMER.count + timer;
        const v = this.block.time(t, timer);
        const d = v - this.seenTimers[k]!;
        this.seenTimers[k] = v;
        if (d > 0n) m.threadSeconds.inc({ thread: this.threadNames[t]!, activity }, Number(d) / 1e9);
      }
    }
    const st = this.block.status;
    const fresh = (field: number): number => {
      const d = st[field]! - this.seenStatus[field]!;
      this.seenStatus[field] = st[field]!;
      return d;
    };
    const updates = fresh(STATUS.updates);
    if (updates > 0) {
      m.fusionCycles.inc(updates);
      m.published.inc({ topic: 'out/tracks' }, updates);
    }
    const plans = fresh(STATUS.plans);
    if (plans > 0) m.published.inc({ topic: 'out/plan' }, plans);
    PLAN_DECISIONS.forEach((decision, i) => {
      const d = fresh(STATUS.byDecision + i);
      if (d > 0) m.plans.inc({ decision }, d);
    });
    m.tracks.set(st[STATUS.tracks]!);
  }

  /** The tracker's latest plan, for the status line. */
  planStatus(): {
    decision: string;
    leadId: number;
    targetAccel: number;
    ttc: number;
    tracks: number;
    /** Track lists published. */
    cycles: number;
    plans: number;
  } {
    const st = this.block.status;
    const plans = st[STATUS.plans]!;
    return {
      cycles: st[STATUS.updates]!,
      decision: plans > 0 ? (PLAN_DECISIONS[st[STATUS.decision]!] ?? '-') : '-',
      leadId: st[STATUS.leadId]!,
      targetAccel: st[STATUS.targetAccel]!,
      ttc: st[STATUS.ttc]!,
      tracks: st[STATUS.tracks]!,
      plans,
    };
  }

  /** Stages, channels and threads now; stage latency windows restart after each call. */
  status(): SchedulerStatus {
    this.drain();
    const C = STAGE_COUNTER;
    const get = (s: number, f: number) => this.block.get(s, f);
    const ms = (h: LatencyHistogram, q: number) => h.quantile(q) / 1e6;
    const elapsed = Number(process.hrtime.bigint() - this.startNs);
    const stages = this.graph.stages.map((s): StageStatus => {
      const w = this.windows[s.index]!;
      const out: StageStatus = {
        name: s.name,
        type: s.type,
        class: s.class,
        budgetMs: s.budgetMs,
        placement: s.placement,
        frames: get(s.index, C.frames),
        latencyP50Ms: ms(w, 0.5),
        latencyP99Ms: ms(w, 0.99),
        misses: get(s.index, C.misses),
        shed: {
          deadline: get(s.index, C.shedDeadline),
          overload: get(s.index, C.shedOverload),
          superseded: get(s.index, C.shedSuperseded),
          late: get(s.index, C.tooLate),
          queueFull: get(s.index, C.queueFull),
        },
        degraded: get(s.index, C.degraded),
        rewinds: get(s.index, C.rewinds),
        queueDepth: get(s.index, C.queueDepth),
        lagging: get(s.index, C.lagging) !== 0,
        errors: get(s.index, C.errors),
      };
      w.reset();
      return out;
    });
    const channels = this.pool.channels.map((ch): ChannelStatus => {
      const st = this.pool.stats(ch.index);
      return {
        name: ch.name,
        slots: ch.slotCount,
        slotsInUse: st.slotsInUse,
        droppedNewest: st.droppedFull,
        droppedOldest: st.droppedOldest,
        skipped: st.overwritten,
      };
    });
    const threads = this.threadNames.map((name, t) => ({
      name,
      priority: this.priorities[t]!,
      tid: this.block.threadId(t),
      spinningPercent: (100 * Number(this.block.time(t, THREAD_TIMER.spinning))) / elapsed,
      workingPercent: (100 * Number(this.block.time(t, THREAD_TIMER.working))) / elapsed,
    }));
    const samplesDropped = this.block.samples.reduce((n, r) => n + r.dropped, 0);
    return { mode: this.mode, overloadLevel: this.block.overload, stages, channels, threads, samplesDropped };
  }
}
