/**
 * The tracker's thread (critical): it fuses every ego, radar and lidar-box measurement as it is
 * committed, camera object lists (normal class) when no critical frame waits, and plans after each
 * update, publishing `out/tracks` and `out/plan` on its own PUB socket, so a critical frame never
 * waits for the main thread. Frames run by class, then earliest deadline; a late one (boxes from
 * the lidar thread, a slow camera ECU) is fused in stamp order by rewinding the tracker
 * (StampOrderedFusion). Lower classes are shed before they start when their deadline is lost or
 * the overload level says so.
 *
 * `trigger-cycles` mode is the earlier design, kept as the bench's baseline: measurements wait for
 * a trigger sensor, then the batch is fused in stamp order (lidar clustered inline).
 */
import { Planner, createPlanResult, type PlanResult, type PlannerConfig } from '../planning/planner.js';
import { planOutput } from '../planning/plan-output.js';
import {
  DEFAULT_TRACKER_CONFIG,
  MultiSensorTracker,
  type TrackerCheckpoint,
  type TrackerConfig,
} from '../fusion/multi-sensor-tracker.js';
import { DivergenceAccumulator, type PlanSummary } from '../smi/divergence/divergence.js';
import { StampOrderedFusion } from '../fusion/stamp-ordered-fusion.js';
import { CLUSTER } from '../fusion/lidar-clusterer.js';
import type { SlotPool } from '../pool/slot-pool.js';
import { ReadyQueue, emptyReadyFrame, type ReadyFrame } from '../smi/policy/ready-queue.js';
import { OverloadGovernor, StageCostModel, admit } from '../smi/policy/admission.js';
import { LagDetector } from '../smi/policy/period-estimator.js';
import { TriggerCyclePolicy } from '../smi/policy/trigger-cycle-policy.js';
import {
  CAMERA,
  OBJECT,
  EGO,
  LIDAR,
  PLAN_DECISIONS,
  PLAN_POINT,
  RADAR,
  TRACK,
  TRACK_QUALITY,
} from '../wire/layouts.js';
import { planMessage, tracksMessage } from '../wire/output-messages.js';
import { SAMPLE, STAGE_COUNTER, STATUS, THREAD_TIMER, type SchedulerBlock } from './scheduler-block.js';
import {
  TrackerStateBlock,
  createTrackerThreadState,
  type TrackerThreadState,
} from './tracker-state-block.js';
import type { StageInputs } from './stage-inputs.js';
import { SPAN } from './span-ring.js';
import { PrefetchWaiter } from './prefetch-waiter.js';
import type {
  ResumedFrom,
  SplitReport,
  SplitRuntime,
  StageInfo,
  TrackerReconfigure,
  TrackerThreadData,
} from './stage-thread-protocol.js';

const HORIZON_POINTS = 64;
/** Best-effort work runs only when the next critical frame is at least this far off, ns. */
const GAP_NEEDED_NS = 2_000_000;
/** A burst of critical frames publishes at least every this many (so overload cannot starve outputs). */
const MAX_UNPUBLISHED = 16;

/** Frames held by the reorder window: what StampOrderedFusion's frame ids point at. */
class HeldFrames {
  readonly channel: Int32Array;
  readonly slot: Int32Array;
  readonly length: Int32Array;
  readonly stamp: BigInt64Array;
  private readonly free: Int32Array;
  private freeCount: number;

  constructor(readonly capacity: number) {
    this.channel = new Int32Array(capacity);
    this.slot = new Int32Array(capacity);
    this.length = new Int32Array(capacity);
    this.stamp = new BigInt64Array(capacity);
    this.free = Int32Array.from({ length: capacity }, (_, i) => capacity - 1 - i);
    this.freeCount = capacity;
  }

  /** An id for frame `f`, or -1 when every id is in use. */
  hold(f: ReadyFrame): number {
    if (this.freeCount === 0) return -1;
    const id = this.free[--this.freeCount]!;
    this.channel[id] = f.channel;
    this.slot[id] = f.slot;
    this.length[id] = f.length;
    this.stamp[id] = f.stampNs;
    return id;
  }

  drop(id: number): void {
    this.free[this.freeCount++] = id;
  }
}

export interface TrackerThreadDeps {
  data: TrackerThreadData;
  pool: SlotPool;
  block: SchedulerBlock;
  inputs: StageInputs;
  /** Where published messages go (the output ring the main thread's PUB socket drains). */
  publisher: { publish(parts: Buffer[]): void };
  postPlan: ((targetAccel: number, decision: string) => void) | undefined;
  onStageError: (stage: string, err: unknown) => void;
  /** A stage started lagging or recovered (logged once per change by the caller). */
  onLag: (stage: string, event: 'lagging' | 'recovered', averageMs: number, expectedMs: number) => void;
  /** A generation was applied, and later its first frame was handled (see FromStageThread 'generation'). */
  onGeneration?: (
    generation: number,
    appliedAtMs: number,
    firstFrameAtMs: number | undefined,
    error?: string,
  ) => void;
  /** The split's routing and divergence, about twice a second while a split runs. */
  onSplitReport?: (report: SplitReport) => void;
}

/** Wall-clock ms with sub-ms resolution, the same clock on every thread. */
const wallMs = (): number => performance.timeOrigin + performance.now();
/** A split's report goes to the main thread at most this often, ns. */
const SPLIT_REPORT_NS = 500_000_000;

/** Checkpoints of both versions of the tracker (the alternative only while a tracker split runs). */
interface VersionCheckpoint {
  primary: TrackerCheckpoint;
  alt: TrackerCheckpoint | undefined;
}

/** The trackers the reorder window rewinds together: the primary, and a split's alternative. */
class TrackerVersions {
  constructor(
    readonly primary: MultiSensorTracker,
    readonly alt: MultiSensorTracker | undefined,
  ) {}

  createCheckpoint(): VersionCheckpoint {
    return { primary: this.primary.createCheckpoint(), alt: this.alt?.createCheckpoint() };
  }

  saveCheckpoint(cp: VersionCheckpoint): void {
    this.primary.saveCheckpoint(cp.primary);
    if (this.alt && cp.alt) this.alt.saveCheckpoint(cp.alt);
  }

  restoreCheckpoint(cp: VersionCheckpoint): void {
    this.primary.restoreCheckpoint(cp.primary);
    if (this.alt && cp.alt) this.alt.restoreCheckpoint(cp.alt);
  }
}

/** One version's outputs of an output frame. */
interface Outputs {
  tracks: Float32Array;
  count: number;
  plan: PlanResult;
  trajectory: Float32Array;
  planned: boolean;
}

/** The alternative version of a TrafficSplit on this thread, with its own output buffers. */
interface AltVersion {
  split: SplitRuntime;
  /** Undefined when the planner is split: the alternative plans on the primary's tracks. */
  tracker: MultiSensorTracker | undefined;
  planner: Planner;
  tracks: Float32Array;
  quality: Float32Array;
  trajectory: Float32Array;
  plan: PlanResult;
  /** Canary: credit toward the alternative's next output (weighted round robin, exact shares). */
  credit: number;
  routed: [number, number];
  divergence: DivergenceAccumulator;
  primarySummary: PlanSummary;
  altSummary: PlanSummary;
  nextReportNs: number;
}

export class TrackerThread {
  private readonly data: TrackerThreadData;
  private readonly block: SchedulerBlock;
  private readonly inputs: StageInputs;
  private readonly tracker: MultiSensorTracker;
  private readonly planner: Planner;
  private ordered: StampOrderedFusion<VersionCheckpoint>;
  private readonly logCapacity: number;
  private alt: AltVersion | undefined;
  private generation: number;
  /** Set when a generation was applied and no frame has run under it yet. */
  private generationPending = false;
  private generationAppliedMs = 0;
  private pendingReconfigure: TrackerReconfigure | undefined;
  private faultPending = false;
  /** A replacement thread: the checkpoint it resumed from (undefined: it started empty). */
  resumed: ResumedFrom | undefined;
  /** The checkpoint in shared memory, saved after each output (what a replacement resumes from). */
  private readonly state: TrackerStateBlock;
  private readonly stateOut: TrackerThreadState;
  private readonly held: HeldFrames;
  private readonly ready: ReadyQueue;
  private readonly frame = emptyReadyFrame();
  private readonly waiter: PrefetchWaiter;
  private readonly governor = new OverloadGovernor();
  private readonly costs: Map<number, StageCostModel>;
  private readonly lags: Map<number, LagDetector>;
  private readonly plannerStage: StageInfo;
  private readonly trackerStage: StageInfo;
  /** Class rank by global stage index. */
  private readonly rankOf: Int32Array;
  private readonly budgetOf: Float64Array;
  /** Cached whole-slot views per pool channel (no allocation per frame). */
  private readonly f32: Float32Array[][];
  private readonly f64: Float64Array[][];
  private readonly tracks: Float32Array;
  /** Per-track covariance-derived quality (TRACK_QUALITY): what the planner may trust. */
  private readonly quality: Float32Array;
  private readonly trajectory = new Float32Array(HORIZON_POINTS * PLAN_POINT.stride);
  private readonly plan: PlanResult = createPlanResult();
  private readonly ego = new Float64Array(EGO.stride);
  private egoStampNs = -1n;
  private nextReclaimNs = 0;
  private tracksSeq = 0;
  private planSeq = 0;
  private resetEpoch: number;
  /** Frames fused since the last publish: channel and stamp of each, for their e2e samples. */
  private readonly unpublishedChannel: Int32Array;
  private readonly unpublishedStamp: BigInt64Array;
  private readonly unpublishedDeadline: Float64Array;
  private readonly unpublishedStage: Int32Array;
  private unpublished = 0;
  private newestFusedNs = -1n;
  // trigger-cycles baseline
  private readonly cycle: TriggerCyclePolicy | undefined;
  private readonly cycleFrames: ReadyFrame[] = [];

  constructor(private readonly deps: TrackerThreadDeps) {
    const { data, pool, block, inputs } = deps;
    this.data = data;
    this.block = block;
    this.inputs = inputs;
    this.tracker = new MultiSensorTracker(data.sensors, {
      ...(data.trackerParams as Partial<TrackerConfig>),
      maxTracks: data.maxTracks,
    });
    this.planner = new Planner(data.planning);
    this.state = TrackerStateBlock.attach(data.stateSab, {
      maxTracks: data.maxTracks,
      sensors: data.sensors,
      inputs: data.inputs.length,
    });
    this.stateOut = createTrackerThreadState(data.inputs.length);
    this.tracks = new Float32Array(data.maxTracks * TRACK.stride);
    this.quality = new Float32Array(data.maxTracks * TRACK_QUALITY.stride);
    const slots = data.inputs.reduce((n, i) => n + pool.channels[i.channel]!.slotCount, 0);
    this.ready = new ReadyQueue(slots + 1);
    this.held = new HeldFrames(slots + 1);
    // One checkpoint per frame the window can hold: the rates of the non-ego inputs over the
    // window, at up to 4x the nominal load, never more than the slots that could be held.
    const perS = data.inputs.filter((i) => i.kind !== 'ego').reduce((n, i) => n + i.rateHz, 0);
    this.logCapacity = Math.max(16, Math.min(slots, Math.ceil((perS * 4 * data.reorderWindowNs) / 1e9) + 16));
    this.generation = data.generation;
    this.alt = data.split ? this.makeAlt(data.split) : undefined;
    this.ordered = this.makeOrdered();
    this.f32 = pool.channels.map((ch) =>
      Array.from(
        { length: ch.slotCount },
        (_, s) => new Float32Array(pool.sab, ch.dataOffset + s * ch.slotBytes, ch.slotBytes >> 2),
      ),
    );
    this.f64 = pool.channels.map((ch) =>
      Array.from(
        { length: ch.slotCount },
        (_, s) => new Float64Array(pool.sab, ch.dataOffset + s * ch.slotBytes, ch.slotBytes >> 3),
      ),
    );
    this.plannerStage = data.stages.find((s) => s.index === data.plannerStage)!;
    this.trackerStage = data.stages.find((s) => s.type === 'tracker')!;
    this.rankOf = new Int32Array(Math.max(...data.stages.map((s) => s.index)) + 1);
    for (const s of data.stages) this.rankOf[s.index] = s.classRank;
    this.budgetOf = new Float64Array(this.rankOf.length);
    for (const s of data.stages) this.budgetOf[s.index] = s.budgetNs;
    this.costs = new Map(data.stages.map((s) => [s.index, new StageCostModel()]));
    const ratePerStage = new Map<number, number>();
    for (const i of data.inputs) ratePerStage.set(i.stage, (ratePerStage.get(i.stage) ?? 0) + i.rateHz);
    this.lags = new Map([...ratePerStage].map(([stage, hz]) => [stage, new LagDetector(1e9 / hz)]));
    this.unpublishedChannel = new Int32Array(MAX_UNPUBLISHED);
    this.unpublishedStamp = new BigInt64Array(MAX_UNPUBLISHED);
    this.unpublishedDeadline = new Float64Array(MAX_UNPUBLISHED);
    this.unpublishedStage = new Int32Array(MAX_UNPUBLISHED);
    this.waiter = new PrefetchWaiter(block, data.thread, inputs, data.prefetch, 0, this.trackerStage.index);
    this.resetEpoch = block.resetEpoch;
    if (data.mode === 'trigger-cycles' || data.mode === 'sync-window') {
      const isTrigger = new Uint8Array(pool.channels.length);
      for (const c of data.triggerChannels) isTrigger[c] = 1;
      const half = Int32Array.from(pool.channels, (c) => Math.max(1, c.slotCount >> 1));
      // Deterministic replay cuts only at triggers: no wall-clock wait decides a cycle.
      this.cycle = new TriggerCyclePolicy(
        isTrigger,
        half,
        data.deterministic ? Infinity : data.triggerMaxWaitNs,
      );
    }
  }

  private makeOrdered(): StampOrderedFusion<VersionCheckpoint> {
    return new StampOrderedFusion(
      new TrackerVersions(this.tracker, this.alt?.tracker),
      this.logCapacity,
      BigInt(this.data.reorderWindowNs),
      (id) => this.applyHeld(id),
      (id) => this.releaseHeld(id),
    );
  }

  /**
   * The alternative version of `split`, starting from the primary's state (its tracks, so a
   * split applied mid-run is warm at once; odometry follows with the next ego record).
   */
  private makeAlt(split: SplitRuntime): AltVersion {
    const { data } = this;
    let tracker: MultiSensorTracker | undefined;
    if (split.stageType === 'tracker') {
      tracker = new MultiSensorTracker(data.sensors, {
        ...(this.tracker.config as TrackerConfig),
        ...(split.altParams as Partial<TrackerConfig>),
        maxTracks: data.maxTracks,
      });
      const cp = this.tracker.createCheckpoint();
      this.tracker.saveCheckpoint(cp);
      tracker.restoreCheckpoint(cp);
    }
    const planning =
      split.stageType === 'planner' ? { ...this.planner.config, ...split.altParams } : this.planner.config;
    return {
      split,
      tracker,
      planner: new Planner(planning),
      tracks: new Float32Array(data.maxTracks * TRACK.stride),
      quality: new Float32Array(data.maxTracks * TRACK_QUALITY.stride),
      trajectory: new Float32Array(HORIZON_POINTS * PLAN_POINT.stride),
      plan: createPlanResult(),
      credit: 0,
      routed: [0, 0],
      divergence: new DivergenceAccumulator(),
      primarySummary: { decision: 'none', targetAccel: 0 },
      altSummary: { decision: 'none', targetAccel: 0 },
      nextReportNs: 0,
    };
  }

  /**
   * A replacement: restores the tracker, the planner and the output sequence numbers from the
   * checkpoint (before the first frame). A split's alternative starts again from the restored
   * primary.
   */
  resumeFromCheckpoint(): void {
    this.resumed = this.restoreCheckpoint();
    if (this.alt) {
      this.alt = this.makeAlt(this.alt.split);
      this.ordered = this.makeOrdered();
    }
  }

  private restoreCheckpoint(): ResumedFrom {
    const saves = this.state.info().saves;
    const s = this.stateOut;
    if (!this.state.restore(this.tracker, this.planner, s)) {
      return { saves: 0, tracks: 0, nextTrackId: this.tracker.nextTrackId, ageMs: 0 };
    }
    this.tracksSeq = s.tracksSeq;
    this.planSeq = s.planSeq;
    this.egoStampNs = s.egoStampNs;
    this.newestFusedNs = s.newestFusedNs;
    this.ego.set(s.ego);
    return {
      saves,
      tracks: this.tracker.trackCount,
      nextTrackId: this.tracker.nextTrackId,
      ageMs: Number(process.hrtime.bigint() - s.savedAtNs) / 1e6,
    };
  }

  /** The checkpoint after an output: what was published is what a replacement starts from. */
  private checkpoint(): void {
    const s = this.stateOut;
    s.tracksSeq = this.tracksSeq;
    s.planSeq = this.planSeq;
    s.egoStampNs = this.egoStampNs;
    s.newestFusedNs = this.newestFusedNs;
    s.generation = this.generation;
    s.ego.set(this.ego);
    for (let k = 0; k < this.data.inputs.length; k++) {
      s.consumed[k] = this.block.consumedOf(this.data.inputs[k]!.channel);
    }
    s.savedAtNs = process.hrtime.bigint();
    this.state.save(this.tracker, this.planner, s);
  }

  /** Fault injection: the next frame fused throws out of the thread's loop (the thread dies). */
  injectThrow(): void {
    this.faultPending = true;
  }

  /** A reconfiguration from the controller; applied before the next frame (see applyReconfigure). */
  reconfigure(msg: TrackerReconfigure): void {
    this.pendingReconfigure = msg;
  }

  /** The split's routing and divergence so far (undefined without a split). */
  splitReport(): SplitReport | undefined {
    const alt = this.alt;
    if (!alt) return undefined;
    return {
      name: alt.split.name,
      mode: alt.split.mode,
      versions: [alt.split.primaryVersion, alt.split.altVersion],
      routed: [alt.routed[0], alt.routed[1]],
      divergence: alt.divergence.report(),
    };
  }

  /**
   * Applies a generation between two frames: budgets and classes in place (the ready queue and
   * StageInputs read the same StageInfo objects), tracker and planner params retuned without
   * touching their state, the split started, changed or stopped. A change that fails (a
   * parameter combination the tracker refuses) is reported and the running generation stays.
   */
  private applyReconfigure(msg: TrackerReconfigure): void {
    this.pendingReconfigure = undefined;
    const appliedAtMs = wallMs();
    try {
      const trackerConfig = {
        ...DEFAULT_TRACKER_CONFIG,
        ...(msg.trackerParams as Partial<TrackerConfig>),
        maxTracks: this.data.maxTracks,
        lidar: this.tracker.config.lidar,
      };
      // Check every version's parameters before changing any: a refusal leaves everything as it was.
      const own = msg.split?.altParams ?? {};
      new MultiSensorTracker(this.data.sensors, trackerConfig);
      new Planner(msg.planning);
      if (msg.split?.stageType === 'tracker')
        new MultiSensorTracker(this.data.sensors, { ...trackerConfig, ...(own as Partial<TrackerConfig>) });
      if (msg.split?.stageType === 'planner') new Planner({ ...msg.planning, ...own });
      this.tracker.retune(trackerConfig);
      this.planner.retune(msg.planning);
      for (const s of msg.stages) {
        const info = this.data.stages.find((x) => x.index === s.index);
        if (!info) continue;
        info.budgetNs = s.budgetNs;
        info.classRank = s.classRank;
        this.rankOf[s.index] = s.classRank;
        this.budgetOf[s.index] = s.budgetNs;
      }
      this.setSplit(msg.split, trackerConfig, msg.planning);
    } catch (err) {
      this.deps.onGeneration?.(
        msg.generation,
        appliedAtMs,
        undefined,
        String((err as Error)?.message ?? err),
      );
      return;
    }
    this.generation = msg.generation;
    this.generationPending = true;
    this.generationAppliedMs = appliedAtMs;
    this.deps.onGeneration?.(msg.generation, appliedAtMs, undefined);
  }

  /**
   * Starts, changes or stops the split. The same alternative (name, stage, version, params) keeps
   * its state and counts, retuned over the primary's new parameters.
   */
  private setSplit(
    split: SplitRuntime | undefined,
    trackerConfig: TrackerConfig,
    planning: PlannerConfig,
  ): void {
    const cur = this.alt?.split;
    if (!split) {
      if (!this.alt) return;
      this.alt = undefined;
    } else if (
      cur &&
      cur.name === split.name &&
      cur.stageType === split.stageType &&
      cur.altVersion === split.altVersion &&
      JSON.stringify(cur.altParams) === JSON.stringify(split.altParams)
    ) {
      const alt = this.alt!;
      alt.split = split;
      const own = split.altParams;
      alt.tracker?.retune({
        ...trackerConfig,
        ...(split.stageType === 'tracker' ? (own as Partial<TrackerConfig>) : {}),
      });
      alt.planner.retune({ ...planning, ...(split.stageType === 'planner' ? own : {}) });
      return;
    } else {
      this.alt = this.makeAlt(split);
    }
    // The versions rewound together changed: restart the reorder window (its frames are fused).
    this.ordered.clear();
    this.ordered = this.makeOrdered();
  }

  /** The thread's loop; resolves when asked to stop (after releasing every slot it holds). */
  async run(): Promise<void> {
    const { block } = this;
    const thread = this.data.thread;
    let lastYieldNs = process.hrtime.bigint();
    while (!block.stopping) {
      const seen = block.rung(thread);
      if (this.pendingReconfigure) this.applyReconfigure(this.pendingReconfigure);
      if (block.resetEpoch !== this.resetEpoch) this.reset();
      const worked = this.cycle ? this.runCycles() : this.runReady();
      if (worked) {
        block.ring(this.data.mainDoorbell);
        // Between bursts of work, let the event loop deliver messages and finish sends.
        const now = process.hrtime.bigint();
        if (now - lastYieldNs > 5_000_000n) {
          lastYieldNs = now;
          await yieldToEventLoop();
        }
        continue;
      }
      this.tickGovernor();
      this.fillGap();
      const due = this.cycle ? this.cycle.dueAt() : Infinity;
      this.waiter.wait(seen, due);
      lastYieldNs = process.hrtime.bigint();
      await yieldToEventLoop();
    }
    this.releaseAll();
  }

  /** Stage mode: takes what is committed and runs it by class and deadline. True if anything ran. */
  private runReady(): boolean {
    // Busy before taking anything: whoever sees a frame consumed then also sees this thread busy
    // until its outputs are published (deterministic replay waits for that).
    this.block.setBusy(this.data.thread, true);
    if (this.inputs.drain(this.ready, this.frame) === 0 && this.ready.size === 0) {
      this.block.setBusy(this.data.thread, false);
      return false;
    }
    const f = this.frame;
    while (this.ready.pop(f)) {
      this.runFrame(f);
      // A critical frame committed meanwhile goes ahead of what is still queued.
      this.inputs.drain(this.ready, this.frame);
      // Publish when nothing else waits, when only lower classes wait (critical outputs go before
      // lower-class work), or after a bounded burst; deterministic: one output per message.
      if (
        this.data.deterministic ||
        this.ready.size === 0 ||
        this.ready.peekRank() > 0 ||
        this.unpublished >= MAX_UNPUBLISHED
      ) {
        this.publish();
      }
      this.setQueueDepth();
    }
    if (this.unpublished > 0) this.publish();
    this.block.setBusy(this.data.thread, false);
    return true;
  }

  private setQueueDepth(): void {
    for (const s of this.data.stages) {
      this.block.set(
        s.index,
        STAGE_COUNTER.queueDepth,
        this.ready.size > 0 ? this.ready.countOfRank(s.classRank) : 0,
      );
    }
  }

  /**
   * Admission, then fusion of one frame. The frame's object is the shared `this.frame`: copy what
   * is kept. `reported`: the frame was already reported consumed (a trigger cycle's pending frame).
   */
  private runFrame(f: ReadyFrame, reported = false): void {
    const finish = (): void =>
      reported ? this.inputs.releaseOnly(f.channel, f.slot) : this.inputs.finish(f.channel, f.slot);
    const stage = this.inputs.stageOf(f.channel);
    const nowNs = process.hrtime.bigint();
    const cost = this.costs.get(stage.index)!;
    const decision = this.data.shedding
      ? admit({
          classRank: stage.classRank,
          deadlineNs: f.deadlineNs,
          nowNs: Number(nowNs),
          costNs: cost.expected(),
          degradedCostNs: undefined,
          overload: this.block.overload,
          sinceFullRun: cost.sinceFullRun,
        })
      : 'run';
    if (decision === 'shed-deadline') cost.noteNotRun();
    if (decision === 'shed-deadline' || decision === 'shed-overload') {
      this.block.count(
        stage.index,
        decision === 'shed-deadline' ? STAGE_COUNTER.shedDeadline : STAGE_COUNTER.shedOverload,
      );
      finish();
      return;
    }
    const kind = this.inputs.info(f.channel).kind;
    this.block.samples[this.data.thread]!.push(
      SAMPLE.sync,
      stage.index,
      Number(nowNs - f.commitNs),
      f.channel,
    );
    try {
      if (kind === 'ego') {
        this.tracker.ingestEgo(this.f64[f.channel]![f.slot]!, f.stampNs);
        this.alt?.tracker?.ingestEgo(this.f64[f.channel]![f.slot]!, f.stampNs);
        this.ego.set(this.f64[f.channel]![f.slot]!.subarray(0, EGO.stride));
        if (f.stampNs > this.egoStampNs) this.egoStampNs = f.stampNs;
        finish();
      } else {
        const id = this.held.hold(f);
        if (id < 0) {
          this.block.count(stage.index, STAGE_COUNTER.queueFull);
          finish();
          return;
        }
        const outcome = this.ordered.fuse(id, f.stampNs);
        if (outcome === 'too-late') {
          this.block.count(stage.index, STAGE_COUNTER.tooLate);
          this.held.drop(id);
          finish();
          return;
        }
        if (outcome === 'rewound') this.block.count(stage.index, STAGE_COUNTER.rewinds);
        if (!reported) this.inputs.consumedOnly(f.channel);
        if (f.stampNs > this.newestFusedNs) this.newestFusedNs = f.stampNs;
      }
    } catch (err) {
      // A frame the tracker refuses (e.g. a view shorter than its count) must not stop the thread.
      this.block.count(stage.index, STAGE_COUNTER.errors);
      this.deps.onStageError(stage.name, err);
      return;
    }
    if (this.faultPending) {
      // Fault injection (tests, bench): die mid-frame, holding this frame and the window's.
      this.faultPending = false;
      throw new Error(`injected fault: the tracker thread throws mid-frame (channel ${f.channel})`);
    }
    const endNs = process.hrtime.bigint();
    const runNs = Number(endNs - nowNs);
    cost.observe(runNs);
    const spans = this.block.spans[this.data.thread];
    if (spans) {
      spans.push(SPAN.run, stage.index, f.channel, Number(nowNs), Number(endNs), Number(f.stampNs));
    }
    this.block.samples[this.data.thread]!.push(SAMPLE.run, stage.index, runNs, f.channel);
    this.block.count(stage.index, STAGE_COUNTER.frames);
    if (this.generationPending) {
      this.generationPending = false;
      this.deps.onGeneration?.(this.generation, this.generationAppliedMs, wallMs());
    }
    const lag = this.lags.get(stage.index)?.observe(Number(nowNs));
    if (lag) this.lagChanged(stage, lag, this.lags.get(stage.index)!);
    const u = this.unpublished++;
    this.unpublishedChannel[u] = f.channel;
    this.unpublishedStamp[u] = f.stampNs;
    this.unpublishedDeadline[u] = f.deadlineNs;
    this.unpublishedStage[u] = stage.index;
  }

  private applyHeld(id: number): void {
    this.applyHeldTo(this.tracker, id);
    // A tracker split's alternative fuses every measurement too (shadow and canary alike).
    if (this.alt?.tracker) this.applyHeldTo(this.alt.tracker, id);
  }

  private applyHeldTo(tracker: MultiSensorTracker, id: number): void {
    const h = this.held;
    const ch = h.channel[id]!;
    const slot = h.slot[id]!;
    const info = this.inputs.info(ch);
    const view = this.f32[ch]![slot]!;
    switch (info.kind) {
      case 'radar':
        tracker.ingestRadar(info.sensorIndex, view, h.length[id]! / (RADAR.stride * 4), h.stamp[id]!);
        break;
      case 'camera':
        tracker.ingestCamera(info.sensorIndex, view, h.length[id]! / (CAMERA.stride * 4), h.stamp[id]!);
        break;
      case 'objects':
        tracker.ingestObjects(info.sensorIndex, view, h.length[id]! / (OBJECT.stride * 4), h.stamp[id]!);
        break;
      case 'boxes':
        tracker.ingestLidarClusters(
          info.sensorIndex,
          view,
          h.length[id]! / (CLUSTER.stride * 4),
          h.stamp[id]!,
        );
        break;
      case 'lidar':
        tracker.ingestLidar(info.sensorIndex, view, h.length[id]! / (LIDAR.stride * 4), h.stamp[id]!);
        break;
      case 'ego':
        break;
    }
  }

  /**
   * `channel` has commits waiting but the tracker holds as many of its slots as it may: release
   * the oldest frames of the reorder window (counted) until one of that channel's is free. A late
   * frame older than what is released can then no longer be fused in order.
   */
  releaseHeldFor(channel: number): void {
    for (let guard = 0; guard < this.ordered.capacity; guard++) {
      const { held, max } = this.inputs.heldOf(channel);
      if (held < max || !this.ordered.releaseOldest()) return;
    }
  }

  private releaseHeld(id: number): void {
    this.inputs.releaseOnly(this.held.channel[id]!, this.held.slot[id]!);
    this.held.drop(id);
  }

  /** Tracks and plan for everything fused since the last publish. */
  private publish(): void {
    if (this.unpublished === 0) return;
    const startNs = process.hrtime.bigint();
    let outStamp = this.newestFusedNs > this.egoStampNs ? this.newestFusedNs : this.egoStampNs;
    if (outStamp < 0n) outStamp = this.unpublishedStamp[this.unpublished - 1]!;
    const count = this.tracker.writeTracks(outStamp, this.tracks, this.quality);
    let planned = true;
    try {
      this.planner.plan(
        { tracks: this.tracks, quality: this.quality, count, ego: this.ego, stampNs: outStamp },
        this.plan,
        this.trajectory,
      );
    } catch (err) {
      planned = false;
      this.block.count(this.plannerStage.index, STAGE_COUNTER.errors);
      this.deps.onStageError(this.plannerStage.name, err);
    }
    // A split: the alternative plans too; a canary's share decides whose outputs are published.
    const alt = this.alt;
    const primary: Outputs = {
      tracks: this.tracks,
      count,
      plan: this.plan,
      trajectory: this.trajectory,
      planned,
    };
    const out = alt ? this.runAlternative(alt, outStamp, primary) : primary;
    const version = alt ? (out === primary ? alt.split.primaryVersion : alt.split.altVersion) : undefined;
    const planEndNs = process.hrtime.bigint();
    const tracksSeq = this.tracksSeq++;
    const tracksParts = tracksMessage(tracksSeq, outStamp, planEndNs, out.tracks, out.count, version);
    this.deps.publisher.publish(tracksParts);
    const trigger = this.unpublishedStamp[this.unpublished - 1]!;
    const plan = out.planned ? planOutput(out.plan, out.trajectory) : undefined;
    const planParts = plan
      ? planMessage(
          this.planSeq++,
          trigger,
          planEndNs,
          version === undefined ? { ...plan.header, tracksSeq } : { ...plan.header, tracksSeq, version },
          plan.payload,
        )
      : undefined;
    if (planParts) this.deps.publisher.publish(planParts);
    const publishedNs = process.hrtime.bigint();
    const samples = this.block.samples[this.data.thread]!;
    const spans = this.block.spans[this.data.thread];
    if (spans) {
      const last = this.unpublished - 1;
      const [s, e] = [Number(startNs), Number(publishedNs)];
      spans.push(
        SPAN.publish,
        this.plannerStage.index,
        this.unpublishedChannel[last]!,
        s,
        e,
        Number(trigger),
      );
      for (let i = 0; i < this.unpublished; i++) {
        const stamp = Number(this.unpublishedStamp[i]!);
        spans.push(SPAN.output, this.unpublishedStage[i]!, this.unpublishedChannel[i]!, s, e, stamp);
      }
    }
    samples.push(SAMPLE.fusion, this.trackerStage.index, Number(publishedNs - outStamp));
    samples.push(SAMPLE.run, this.plannerStage.index, Number(planEndNs - startNs));
    for (let i = 0; i < this.unpublished; i++) {
      const stamp = this.unpublishedStamp[i]!;
      const latency = Number(publishedNs - stamp);
      const stage = this.unpublishedStage[i]!;
      // What the budgets bound: from the capture stamp, or from the commit of a derived input
      // (lidar boxes; see StageInputs), whose deadline is counted from there.
      const own = Number(publishedNs) - (this.unpublishedDeadline[i]! - this.budgetOf[stage]!);
      samples.push(SAMPLE.latency, stage, own, this.unpublishedChannel[i]!);
      if (Number(publishedNs) > this.unpublishedDeadline[i]!) this.block.count(stage, STAGE_COUNTER.misses);
      if (planned) {
        samples.push(SAMPLE.e2e, this.plannerStage.index, latency, this.unpublishedChannel[i]!);
        if (own > this.plannerStage.budgetNs) this.block.count(this.plannerStage.index, STAGE_COUNTER.misses);
      }
      if (this.rankOf[stage] === 0) this.governor.observe(own, this.plannerStage.budgetNs);
    }
    if (planned) this.block.count(this.plannerStage.index, STAGE_COUNTER.frames);
    this.unpublished = 0;
    const st = this.block.status;
    st[STATUS.updates]!++;
    st[STATUS.tracks] = count;
    if (out.planned) {
      const p = out.plan;
      st[STATUS.plans]!++;
      const code = PLAN_DECISIONS.indexOf(p.decision);
      st[STATUS.decision] = code;
      st[STATUS.byDecision + code]!++;
      st[STATUS.leadId] = p.leadId;
      st[STATUS.targetAccel] = p.targetAccel;
      st[STATUS.ttc] = p.ttc;
      this.deps.postPlan?.(p.targetAccel, p.decision);
    }
    this.checkpoint();
    this.block.addTime(this.data.thread, THREAD_TIMER.working, process.hrtime.bigint() - startNs);
  }

  /**
   * The split's alternative on this output frame: its tracks (a tracker split) and plan, their
   * divergence from the primary's, and the canary's choice. Returns `primary` or the
   * alternative's outputs, whichever is published.
   */
  private runAlternative(alt: AltVersion, stampNs: bigint, primary: Outputs): Outputs {
    const count = alt.tracker ? alt.tracker.writeTracks(stampNs, alt.tracks, alt.quality) : primary.count;
    const tracks = alt.tracker ? alt.tracks : primary.tracks;
    const quality = alt.tracker ? alt.quality : this.quality;
    let planned = true;
    try {
      alt.planner.plan({ tracks, quality, count, ego: this.ego, stampNs }, alt.plan, alt.trajectory);
    } catch (err) {
      planned = false;
      this.deps.onStageError(`${this.plannerStage.name}@${alt.split.altVersion}`, err);
    }
    alt.primarySummary.decision = primary.plan.decision;
    alt.primarySummary.targetAccel = primary.plan.targetAccel;
    alt.altSummary.decision = alt.plan.decision;
    alt.altSummary.targetAccel = alt.plan.targetAccel;
    alt.divergence.add(
      { tracks: primary.tracks, count: primary.count },
      { tracks, count },
      primary.planned ? alt.primarySummary : undefined,
      planned ? alt.altSummary : undefined,
    );
    let useAlt = false;
    if (alt.split.mode === 'canary') {
      alt.credit += alt.split.altWeight;
      if (alt.credit >= 100) {
        alt.credit -= 100;
        useAlt = true;
      }
    }
    alt.routed[useAlt ? 1 : 0]++;
    const now = Number(process.hrtime.bigint());
    if (now >= alt.nextReportNs) {
      alt.nextReportNs = now + SPLIT_REPORT_NS;
      const report = this.splitReport();
      if (report) this.deps.onSplitReport?.(report);
    }
    if (!useAlt) return primary;
    // The alternative's own buffers: `tracks` is alt.tracks only for a tracker split.
    return {
      tracks: alt.tracker ? alt.tracks : primary.tracks,
      count,
      plan: alt.plan,
      trajectory: alt.trajectory,
      planned,
    };
  }

  /** Baseline: pending frames wait for a cut, then are fused as one batch in stamp order. */
  private runCycles(): boolean {
    const cycle = this.cycle!;
    const f = this.frame;
    let added = 0;
    this.block.setBusy(this.data.thread, true);
    if (this.inputs.drain(this.ready, f) > 0 || this.ready.size > 0) {
      while (this.ready.pop(f)) {
        this.cycleFrames.push({ ...f });
        // Taken into the cycle: consumed as far as idle detection goes (it waits for its trigger).
        this.inputs.consumedOnly(f.channel);
        cycle.add(f.channel, Number(process.hrtime.bigint()));
        added++;
      }
    }
    if (!cycle.shouldCut(Number(process.hrtime.bigint()))) {
      // Waiting for a trigger is idle (deterministic replay must be able to go on to it).
      this.block.setBusy(this.data.thread, false);
      return added > 0;
    }
    cycle.cut();
    const batch = this.cycleFrames
      .splice(0)
      .sort((a, b) => (a.stampNs < b.stampNs ? -1 : a.stampNs > b.stampNs ? 1 : 0));
    for (const b of batch) {
      if (this.unpublished >= MAX_UNPUBLISHED) this.publish();
      this.runFrame(b, true);
    }
    this.publish();
    this.block.setBusy(this.data.thread, false);
    return true;
  }

  /**
   * Best-effort work in the gaps between critical frames: run when the next critical commit is
   * not expected for a while. Today: taking back what dead processes (a killed C driver or reader)
   * hold in the pool, once a second, so a dead driver's slots return without waiting for a full
   * channel to notice.
   */
  private fillGap(): void {
    const now = Number(process.hrtime.bigint());
    if (now < this.nextReclaimNs) return;
    const next = this.inputs.nextExpected(now, 0);
    if (next && next.atNs - now < GAP_NEEDED_NS) return;
    this.nextReclaimNs = now + 1e9;
    this.deps.pool.reclaim();
  }

  private tickGovernor(): void {
    const now = Number(process.hrtime.bigint());
    if (this.data.shedding) this.block.overload = this.governor.tick(now);
    for (const [stage, lag] of this.lags) {
      const e = lag.tick(now);
      const info = this.data.stages.find((s) => s.index === stage);
      if (e && info) this.lagChanged(info, e, lag);
    }
  }

  private lagChanged(stage: StageInfo, e: 'lagging' | 'recovered', lag: LagDetector): void {
    this.block.set(stage.index, STAGE_COUNTER.lagging, e === 'lagging' ? 1 : 0);
    if (e === 'lagging') this.block.count(stage.index, STAGE_COUNTER.lagEpisodes);
    this.deps.onLag(stage.name, e, lag.averagePeriod / 1e6, lag.expectedPeriodNs / 1e6);
  }

  /** A looped simulated drive: start the tracker again, releasing what the window holds. */
  private reset(): void {
    this.resetEpoch = this.block.resetEpoch;
    this.ordered.clear();
    this.tracker.reset();
    this.alt?.tracker?.reset();
    this.egoStampNs = -1n;
    this.newestFusedNs = -1n;
    this.unpublished = 0;
  }

  private releaseAll(): void {
    this.ordered.clear();
    const f = this.frame;
    while (this.ready.pop(f)) this.inputs.finish(f.channel, f.slot);
    for (const c of this.cycleFrames.splice(0)) this.inputs.releaseOnly(c.channel, c.slot);
  }
}

/** Lets the event loop run once (messages, socket completions) without a timer's minimum delay. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
