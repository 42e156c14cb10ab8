/**
 * The SMI scheduler, main-thread side. It starts the stage threads the spec asks for (the
 * tracker's, the lidar thread, the shared pool), routes each commit to the thread that consumes
 * the channel (a doorbell ring: no message, no copy), watches channels external producers write,
 * tells deterministic replay when the pipeline is idle, and reports what the stages do (metrics,
 * status). Which frame runs when is decided on the stage threads (class, then deadline); see
 * src/workers/tracker-thread.ts and lidar-thread.ts.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import {
  emptyDescriptor,
  type ChannelReader,
  type ChannelWriter,
  type SlotPool,
} from '../../pool/slot-pool.js';
import type { CurveSpec, PipelineSpec } from '../spec/pipeline-spec.js';
import type { PipelineMetrics } from '../../telemetry/pipeline-metrics.js';
import type { Logger } from '../../telemetry/logger.js';
import type { IngestCounterBlock } from '../../sensors/ingest-counters.js';
import { CLUSTER } from '../../fusion/lidar-clusterer.js';
import { SAMPLE, STAGE_COUNTER, SchedulerBlock } from '../../workers/scheduler-block.js';
import { workerFile } from '../../workers/worker-file.js';
import { currentThreadId } from '../../workers/thread-priority.js';
import type { ClusterResult, ClusterTask } from '../../workers/shared-stage-task.js';
import type {
  FromStageThread,
  LidarThreadData,
  SplitReport,
  SplitRuntime,
  TrackerReconfigure,
  TrackerThreadData,
} from '../../workers/stage-thread-protocol.js';
import type { SplitSpec } from '../spec/traffic-split.js';
import { CLASS_RANK } from '../spec/stage-spec.js';
import { admit } from '../policy/admission.js';
import { ClassEdfTaskQueue } from './class-edf-task-queue.js';
import { SchedulerTelemetry } from './scheduler-telemetry.js';
import { inputsOf, stageInfo, type StageGraph } from './stage-graph.js';
import { StageThread } from './stage-threads.js';
import { OutputRing } from '../../workers/output-ring.js';
import { OutputPump } from './output-pump.js';
import { TrackerSupervisor, type RecoveryStatus } from './tracker-supervisor.js';
import { TrackerStateBlock } from '../../workers/tracker-state-block.js';

export interface SchedulerOptions {
  /** Replay at max speed: no shedding, no prefetch, one output per message, main ingests everything. */
  deterministic: boolean;
  /** Lidar scans are ingested on the lidar thread (else on the main thread). */
  lidarIngestOnThread: boolean;
  /** ZeroMQ endpoints the lidar thread subscribes to `sensor/lidar/` on. */
  lidarZmq: { endpoints: string[]; bind: boolean; curve?: CurveSpec } | undefined;
  /** Post each plan's command to the main thread (closed loop). */
  postPlans: boolean;
  logLevel: string;
  /** The spec generation the threads start under (default 1). */
  generation?: number;
  /** Stage threads report per-frame spans (SchedulerTelemetry.onSpan; the bench's --trace). */
  traceSpans?: boolean;
  /** Stage threads honour injected faults (tests and the failover bench: injectFault). */
  faultInjection?: boolean;
}

/** What a thread said about a generation it was given (see FromStageThread 'generation'). */
export type GenerationEvent = Extract<FromStageThread, { type: 'generation' }>;

/** Spans each thread can hold between drains when tracing (~8 s of the built-in rig at 1x). */
const SPANS_PER_THREAD = 1 << 15;

type PlanListener = (targetAccel: number, decision: string) => void;

/** The lidar thread's death (it is not replaced). */
export interface LidarFailure {
  at: string;
  reason: string;
  lostFrames: number;
  releasedSlots: number;
}

export class PipelineScheduler {
  readonly block: SchedulerBlock;
  readonly telemetry: SchedulerTelemetry;
  private readonly outputRing = OutputRing.create();
  private readonly pump = new OutputPump(this.outputRing);
  private tracker: TrackerSupervisor | undefined;
  /** What a tracker thread starts under now (updated with each committed generation). */
  private trackerData: TrackerThreadData | undefined;
  /** The tracker's checkpoint in shared memory (a replacement thread resumes from it). */
  readonly trackerState: TrackerStateBlock;
  /** Doorbell of the thread consuming each channel; -1: consumed on the main thread (shared pool). */
  private readonly consumerThread: Int32Array;
  private planListener: PlanListener = () => {};
  private outputListener: ((parts: Uint8Array[]) => void) | undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private lidarThread: StageThread | undefined;
  private lidarFailure: LidarFailure | undefined;
  private shared: SharedLidarExtraction | undefined;
  publishEndpoint = '';
  lidarZmqEndpoints: string[] = [];
  /** The split's routing and divergence as the tracker thread last reported it. */
  splitReport: SplitReport | undefined;
  private readonly generationListeners = new Set<(e: GenerationEvent) => void>();

  constructor(
    private readonly spec: PipelineSpec,
    private readonly graph: StageGraph,
    private readonly pool: SlotPool,
    private readonly metrics: PipelineMetrics,
    private readonly log: Logger,
    private readonly ingestCounters: IngestCounterBlock,
    private readonly options: SchedulerOptions,
  ) {
    this.block = SchedulerBlock.create({
      threads: graph.threads.count,
      stages: graph.stages.length,
      channels: pool.channels.length,
      spanCapacity: options.traceSpans ? SPANS_PER_THREAD : 0,
    });
    this.block.setThreadId(graph.threads.main, currentThreadId());
    this.telemetry = new SchedulerTelemetry(graph, this.block, pool, metrics, spec.scheduler.mode);
    this.trackerState = TrackerStateBlock.create({
      maxTracks: spec.fusion.maxTracks,
      sensors: spec.sensors,
      inputs: inputsOf(graph, graph.trackerStages).length,
    });
    this.consumerThread = Int32Array.from(graph.channels, (c) => {
      if (c.consumer < 0) return -1;
      if (graph.trackerStages.includes(c.consumer)) return graph.threads.tracker;
      if (c.consumer === graph.lidarStage && graph.lidarPlacement === 'dedicated') return graph.threads.lidar;
      return -1;
    });
  }

  /** Starts the stage threads; resolves when each is ready (or rejects naming the one that failed). */
  async start(): Promise<void> {
    const { spec, graph, options } = this;
    const det = options.deterministic;
    const sched = spec.scheduler;
    // Real-time scheduling buys wake-up latency; a deterministic run wants throughput (nice only).
    const priority = (stage: number): { rank: number; realtime: number } | undefined =>
      sched.threadPriorities
        ? { rank: CLASS_RANK[graph.stages[stage]!.class], realtime: det ? 0 : sched.realtimePriority }
        : undefined;
    const common = {
      poolSab: this.pool.sab,
      blockSab: this.block.sab,
      blockShape: this.block.shape,
      ingestCountersSab: this.ingestCounters.sab,
      mainDoorbell: graph.threads.main,
      sensors: spec.sensors,
      deterministic: det,
      shedding: sched.shedding && !det && sched.mode === 'stages',
      prefetch: { ...sched.prefetch, enabled: sched.prefetch.enabled && !det },
      logLevel: options.logLevel,
      ingestLimits: spec.ingest,
      faultInjection: options.faultInjection ?? false,
    };
    // The PUB socket lives here, not on the tracker thread (see OutputRing): bound before it starts.
    this.publishEndpoint = await this.pump.bind(spec.outputs.publish);
    this.pump.listener = (parts) => this.outputListener?.(parts);
    this.pump.onPublished = () => this.tracker?.noteOutput();
    this.pump.start();
    const seen = { ring: 0, send: 0 };
    this.metrics.addCollector(() => {
      const d = this.pump.dropped;
      this.metrics.outputDropped.inc({ reason: 'ring_full' }, d.ring - seen.ring);
      this.metrics.outputDropped.inc({ reason: 'send_failed' }, d.send - seen.send);
      Object.assign(seen, d);
    });
    const trackerData: TrackerThreadData = {
      ...common,
      thread: graph.threads.tracker,
      inputs: inputsOf(graph, graph.trackerStages),
      stages: graph.trackerStages.map((i) => stageInfo(graph.stages[i]!)),
      priority: priority(graph.trackerStage),
      mode: sched.mode,
      maxTracks: spec.fusion.maxTracks,
      trackerParams: graph.stages[graph.trackerStage]!.params,
      planning: spec.planning,
      reorderWindowNs: sched.reorderWindowMs * 1e6,
      // sync-window: the batch is cut when a lidar's boxes arrive; trigger-cycles: at its triggers.
      triggerChannels:
        sched.mode === 'sync-window'
          ? graph.channels.filter((c) => c.kind === 'boxes').map((c) => c.index)
          : sched.triggerCycles.triggers.map((id) => spec.sensors.findIndex((s) => s.id === id)),
      triggerMaxWaitNs: sched.triggerCycles.maxWaitMs * 1e6,
      plannerStage: graph.plannerStage,
      outputRingSab: this.outputRing.sab,
      stateSab: this.trackerState.sab,
      resume: false,
      standby: false,
      postPlans: options.postPlans,
      generation: options.generation ?? 1,
      split: splitRuntimeOf(spec.splits[0]),
    };
    this.trackerData = trackerData;
    this.tracker = new TrackerSupervisor({
      pool: this.pool,
      block: this.block,
      state: this.trackerState,
      metrics: this.metrics,
      log: this.log,
      // Deterministic replay has no deadline to keep: a cold replacement does (no standby thread).
      policy: det ? { ...sched.recovery, standby: false } : sched.recovery,
      currentData: () => this.trackerData!,
      handlers: {
        onPlan: (accel, decision) => this.planListener(accel, decision),
        onGeneration: (e) => {
          for (const l of this.generationListeners) l(e);
        },
        onSplit: (report) => {
          this.splitReport = report;
          if (report) this.telemetry.noteSplit(report);
        },
      },
      onReady: (ready) => (this.telemetry.priorities[graph.threads.tracker] = ready.priority),
      flushOutputs: () => this.pump.drain(),
    });
    const trackerReady = this.tracker.start();
    if (graph.lidarPlacement === 'dedicated') {
      const lidarInputs = inputsOf(graph, [graph.lidarStage]);
      const lidarData: LidarThreadData = {
        ...common,
        thread: graph.threads.lidar,
        inputs: lidarInputs,
        stages: [stageInfo(graph.stages[graph.lidarStage]!)],
        priority: priority(graph.lidarStage),
        ingestSensors: options.lidarIngestOnThread
          ? lidarInputs.filter((i) => !i.external).map((i) => i.sensorIndex)
          : [],
        zmq: options.lidarIngestOnThread ? options.lidarZmq : undefined,
        boxesChannels: lidarInputs.map((i) => this.boxesChannelOf(i.channel)),
        trackerDoorbell: graph.threads.tracker,
        clustererParams: graph.stages[graph.lidarStage]!.params,
      };
      this.lidarThread = new StageThread('lidar', 'lidar-worker', lidarData, this.log, {
        onDeath: (t, why) => this.lidarDied(t, why, lidarData),
      });
      this.metrics.threadUp.set({ thread: 'lidar' }, 1);
    } else if (graph.lidarPlacement === 'shared') {
      this.shared = new SharedLidarExtraction(
        this,
        this.pool,
        graph,
        this.block,
        spec,
        options.deterministic,
        this.log,
      );
    }
    const [tracker, lidar] = await Promise.all([trackerReady, this.lidarThread?.whenReady()]);
    this.telemetry.priorities[graph.threads.tracker] = tracker.priority;
    if (lidar) this.telemetry.priorities[graph.threads.lidar] = lidar.priority;
    this.lidarZmqEndpoints = lidar?.zmqEndpoints ?? [];
    this.drainTimer = setInterval(() => this.telemetry.drain(), 50);
    this.drainTimer.unref();
  }

  /** Called with what the tracker thread says about each generation it is given. */
  onGeneration(listener: (e: GenerationEvent) => void): () => void {
    this.generationListeners.add(listener);
    return () => this.generationListeners.delete(listener);
  }

  /**
   * Sends a new generation to the tracker thread: its stages' budgets and classes, tracker and
   * planner params, the split. Applied between two frames (no frame is dropped for it); the
   * thread checks it first and answers with a 'generation' event (onGeneration; with `error` when
   * it refused, changing nothing), the first frame under it with another; then commitGeneration.
   * `next` must have the same stages, sensors and pool as the running spec (the controller
   * refuses other changes as needing a restart).
   */
  reconfigure(next: PipelineSpec, generation: number): void {
    const graph = this.graph;
    const msg: TrackerReconfigure = {
      type: 'reconfigure',
      generation,
      stages: this.stageUpdates(next, graph.trackerStages),
      trackerParams: next.stages.find((s) => s.name === graph.stages[graph.trackerStage]!.name)?.params ?? {},
      planning: next.planning,
      split: splitRuntimeOf(next.splits[0]),
    };
    this.tracker?.postMessage(msg);
    // Wake the thread: the change is applied at the top of its next loop.
    this.block.ring(graph.threads.tracker);
  }

  /**
   * The tracker thread took `next` (its 'generation' event had no error): the lidar-extraction
   * stage follows (its thread between two scans, or the shared pool's next task), and the stage
   * graph, which status and metrics read, says what now runs.
   */
  commitGeneration(next: PipelineSpec, generation: number): void {
    const graph = this.graph;
    if (graph.lidarStage >= 0) {
      const update = this.stageUpdates(next, [graph.lidarStage])[0]!;
      const params = next.stages.find((s) => s.name === graph.stages[graph.lidarStage]!.name)?.params ?? {};
      this.lidarThread?.postMessage({
        type: 'reconfigure-lidar',
        generation,
        stages: [update],
        clustererParams: params,
      });
      this.shared?.reconfigure(update.budgetNs, update.classRank);
      if (this.lidarThread) this.block.ring(graph.threads.lidar);
    }
    for (const stage of graph.stages) {
      const s = next.stages.find((x) => x.name === stage.name);
      if (s) Object.assign(stage, { budgetMs: s.budgetMs, class: s.class, params: s.params });
    }
    // A replacement tracker thread starts under this generation.
    const data = this.trackerData;
    if (data) {
      const updates = this.stageUpdates(next, graph.trackerStages);
      this.trackerData = {
        ...data,
        generation,
        stages: data.stages.map((s) => {
          const u = updates.find((x) => x.index === s.index);
          return u ? { ...s, budgetNs: u.budgetNs, classRank: u.classRank } : s;
        }),
        trackerParams: graph.stages[graph.trackerStage]!.params,
        planning: next.planning,
        split: splitRuntimeOf(next.splits[0]),
      };
    }
  }

  /**
   * The lidar thread died (it fail-stops on any error, closing its socket first). It is not
   * replaced (README "Failure behaviour"): what it held in the pool is released (its reader
   * entries freed, the slots it had loaned as the boxes' and its lidars' writer returned), replay
   * stops waiting for it, lidar boxes stop and the tracker goes on with the other sensors.
   */
  private lidarDied(t: StageThread, why: string, data: LidarThreadData): void {
    if (this.stopping) return;
    let released = 0;
    let lost = 0;
    for (const r of t.readyMessage?.readers ?? []) {
      released += this.pool.closeReaderOf(r.channel, r.entry);
      lost += this.block.settleOpen(r.channel);
    }
    const ingested = data.inputs.filter((i) => data.ingestSensors.includes(i.sensorIndex));
    for (const ch of [...data.boxesChannels, ...ingested.map((i) => i.channel)])
      released += this.pool.reclaimWriterOf(ch);
    this.block.setBusy(this.graph.threads.lidar, false);
    this.lidarFailure = {
      at: new Date().toISOString(),
      reason: why,
      lostFrames: lost,
      releasedSlots: released,
    };
    this.metrics.threadUp.set({ thread: 'lidar' }, 0);
    this.metrics.threadRestarts.inc({ thread: 'lidar', outcome: 'gave_up' });
    this.metrics.threadLostFrames.inc({ thread: 'lidar' }, lost);
    this.log.error(
      { thread: 'lidar', reason: why, lostFrames: lost, releasedSlots: released },
      'lidar thread died and is not replaced: lidar boxes stop, the tracker goes on with the other sensors',
    );
  }

  /** Whether lidar scans still reach the lidar thread (false once it died). */
  get lidarAlive(): boolean {
    return this.lidarFailure === undefined;
  }

  /** The stage threads' deaths and replacements, what they lost (status). */
  recoveryStatus(): (RecoveryStatus & { lidar: LidarFailure | undefined }) | undefined {
    const tracker = this.tracker?.status();
    return tracker && { ...tracker, lidar: this.lidarFailure };
  }

  /**
   * Fault injection (needs `faultInjection`): the tracker thread throws mid-frame, or is
   * terminated; its supervisor replaces it.
   */
  async injectFault(fault: 'throw' | 'terminate', thread: 'tracker' | 'lidar' = 'tracker'): Promise<void> {
    if (!this.options.faultInjection)
      throw new Error('inject fault: the scheduler was started without faultInjection');
    if (thread === 'lidar') {
      // Terminating a thread with a ZeroMQ receive in flight aborts the process (zeromq.js #411).
      if (fault !== 'throw') throw new Error('inject fault: the lidar thread can only be made to throw');
      if (!this.lidarThread) throw new Error('inject fault: there is no lidar thread');
      this.lidarThread.postMessage({ type: 'inject-fault', fault });
      this.block.ring(this.graph.threads.lidar);
      return;
    }
    await this.tracker?.injectFault(fault, this.graph.threads.tracker);
  }

  private stageUpdates(next: PipelineSpec, indices: readonly number[]) {
    return indices.map((i) => {
      const s = next.stages.find((x) => x.name === this.graph.stages[i]!.name)!;
      return { index: i, budgetNs: s.budgetMs * 1e6, classRank: CLASS_RANK[s.class] };
    });
  }

  /** The pool channel the boxes of lidar channel `lidar` go to. */
  boxesChannelOf(lidar: number): number {
    const id = this.graph.channels[lidar]!.name;
    return this.graph.channels.findIndex(
      (c) => c.kind === 'boxes' && this.spec.sensors[c.sensorIndex]!.id === id,
    );
  }

  /** A message was committed on `channel` (by ingest on this thread, or seen from an external producer). */
  onCommit(channel: number): void {
    const t = this.consumerThread[channel]!;
    if (t >= 0) this.block.ring(t);
    else this.shared?.onCommit(channel);
  }

  /** Rings the consumer of a channel (the shared lidar stage's boxes commits). */
  ring(thread: number): void {
    this.block.ring(thread);
  }

  /**
   * A port to post lidar wire frames to ({parts, receivedNs, clockNs}); the lidar thread ingests
   * them. Undefined when lidar is ingested on the main thread.
   */
  lidarFramePort(): MessagePort | undefined {
    if (!this.lidarThread || !this.options.lidarIngestOnThread) return undefined;
    const { port1, port2 } = new MessageChannel();
    this.lidarThread.postMessage({ type: 'frames', port: port2 }, [port2]);
    return port1;
  }

  /** Called with each plan's command (closed-loop simulation). */
  onPlan(listener: PlanListener): void {
    this.planListener = listener;
  }

  /** Called with each published message (copies), when the service was started with an output tap. */
  onOutputs(listener: (parts: Uint8Array[]) => void): void {
    this.outputListener = listener;
  }

  /** Restarts the tracker (a looped simulated drive); takes effect before its next frame. */
  resetTracker(): void {
    this.block.requestReset();
  }

  /**
   * Channels an external producer (a C/C++ driver) writes have no ingest call on this thread:
   * wait for their commits here (a futex wait off the main thread) and ring their consumer, which
   * admits each message with ingest's checks before using it.
   */
  watchExternalChannels(): void {
    for (const c of this.graph.channels) {
      if (c.external && c.consumer >= 0) void this.watchExternal(c.index);
    }
  }

  private async watchExternal(channel: number): Promise<void> {
    let seen = this.pool.commitCount(channel);
    while (!this.stopping) {
      const changed = await this.pool.waitCommit(channel, seen, 200).catch((err: unknown) => {
        this.log.error({ err, channel }, 'waiting for an external producer failed');
        return false;
      });
      if (this.stopping) break;
      if (changed) {
        seen = this.pool.commitCount(channel);
        this.onCommit(channel);
      }
    }
  }

  /**
   * Whether every committed message has been finished by its consumer and published (or dropped
   * for a newer one by its full channel).
   */
  idle(): boolean {
    // A stage thread given up on consumes nothing more: its inputs cannot hold replay back.
    const trackerDown = this.tracker?.failed === true;
    for (const c of this.graph.channels) {
      if (c.consumer < 0) continue;
      if (trackerDown && this.consumerThread[c.index] === this.graph.threads.tracker) continue;
      if (!this.lidarAlive && this.consumerThread[c.index] === this.graph.threads.lidar) continue;
      // Dropped for a newer message by a full drop-oldest channel: one consumer, so one drop each.
      const open =
        this.pool.commitCount(c.index) - this.block.consumedOf(c.index) - this.pool.droppedOldest(c.index);
      if (open >>> 0 !== 0) return false;
    }
    // Read after the counts: a thread marks itself busy before it consumes anything.
    for (let t = 0; t < this.graph.threads.count; t++) if (this.block.isBusy(t)) return false;
    return !this.shared?.busy;
  }

  /** Resolves when the pipeline is idle (replay at max speed waits for it after each message). */
  async whenIdle(): Promise<void> {
    const main = this.graph.threads.main;
    while (!this.stopping && !this.idle()) {
      const seen = this.block.rung(main);
      if (this.idle()) break;
      await this.block.sleepAsync(main, seen, 50);
    }
    // Idle means published: what the tracker wrote goes out (and to the taps) before the next input.
    this.pump.drain();
  }

  /** Stops every stage thread (bounded), releasing what they hold. */
  async stop(graceMs = 1500): Promise<void> {
    this.stopping = true;
    if (this.drainTimer) clearInterval(this.drainTimer);
    this.block.requestStop();
    await Promise.all([this.tracker?.stop(graceMs), this.lidarThread?.stop(graceMs), this.shared?.stop()]);
    await this.pump.stop();
    this.telemetry.drain();
  }
}

/**
 * Lidar extraction placed on the shared pool: the main thread ingests the scans; the newest of
 * each lidar goes to the pool as a task ordered by class and deadline (ClassEdfTaskQueue); the
 * boxes come back and are committed here. One scan per lidar in flight: a newer one waits, and
 * supersedes one that waits.
 */
class SharedLidarExtraction {
  private readonly piscina: Piscina<ClusterTask, ClusterResult>;
  private readonly readers = new Map<number, ChannelReader>();
  private readonly writers = new Map<number, ChannelWriter>();
  private readonly inFlight = new Set<number>();
  private readonly d = emptyDescriptor();
  private readonly stage: ReturnType<typeof stageInfo>;
  /** Bumped when the stage's params change (hot reload): the pool threads rebuild their clusterers. */
  paramsGeneration = 0;

  constructor(
    private readonly scheduler: PipelineScheduler,
    private readonly pool: SlotPool,
    private readonly graph: StageGraph,
    private readonly block: SchedulerBlock,
    private readonly spec: PipelineSpec,
    private readonly deterministic: boolean,
    private readonly log: Logger,
  ) {
    this.stage = stageInfo(graph.stages[graph.lidarStage]!);
    this.piscina = new Piscina({
      filename: workerFile('shared-stage-task'),
      minThreads: 1,
      maxThreads: 2,
      idleTimeout: 60_000,
      taskQueue: new ClassEdfTaskQueue(),
    });
    for (const c of graph.channels) {
      if (c.consumer !== graph.lidarStage) continue;
      this.readers.set(c.index, pool.reader(c.index, c.access));
      this.writers.set(c.index, pool.writer(scheduler.boxesChannelOf(c.index), c.index));
    }
  }

  get busy(): boolean {
    return this.inFlight.size > 0;
  }

  /** A new generation's budget, class and params (params are read per task). */
  reconfigure(budgetNs: number, classRank: number): void {
    this.stage.budgetNs = budgetNs;
    this.stage.classRank = classRank;
    this.paramsGeneration++;
  }

  onCommit(channel: number): void {
    const reader = this.readers.get(channel);
    if (!reader || this.inFlight.has(channel)) return;
    const before = reader.skipped;
    if (!reader.latest(this.d)) return;
    const skipped = reader.skipped - before;
    if (skipped > 0) {
      this.block.count(this.stage.index, STAGE_COUNTER.shedSuperseded, skipped);
      this.block.consume(channel, skipped);
    }
    const d = { ...this.d };
    const deadlineNs = Number(d.stampNs) + this.stage.budgetNs;
    const decision = this.deterministic
      ? 'run'
      : admit({
          classRank: this.stage.classRank,
          deadlineNs,
          nowNs: Number(process.hrtime.bigint()),
          costNs: 0,
          degradedCostNs: 0,
          overload: this.block.overload,
        });
    if (decision === 'shed-deadline' || decision === 'shed-overload') {
      this.block.count(
        this.stage.index,
        decision === 'shed-deadline' ? STAGE_COUNTER.shedDeadline : STAGE_COUNTER.shedOverload,
      );
      reader.release(d.slot);
      this.block.consume(channel);
      return;
    }
    const sensor = this.graph.channels[channel]!.sensorIndex;
    const task: ClusterTask & Record<symbol, unknown> = {
      sab: this.pool.sab,
      offset: this.pool.slotOffset(channel, d.slot),
      length: d.length,
      mount: this.spec.sensors[sensor]!.mount,
      degrade: decision === 'degrade',
      params: this.graph.stages[this.graph.lidarStage]!.params,
      paramsGeneration: this.paramsGeneration,
      [Piscina.queueOptionsSymbol]: { classRank: this.stage.classRank, deadlineNs },
    };
    this.inFlight.add(channel);
    const queuedNs = process.hrtime.bigint();
    this.piscina.run(task).then(
      (r) => this.done(channel, d, r, queuedNs, task.degrade),
      (err: unknown) => {
        this.block.count(this.stage.index, STAGE_COUNTER.errors);
        this.log.error(
          { err, stage: this.stage.name },
          'shared lidar extraction failed on a scan; it was released',
        );
        reader.release(d.slot);
        this.block.consume(channel);
        this.inFlight.delete(channel);
      },
    );
  }

  private done(
    channel: number,
    d: { slot: number; stampNs: bigint; commitNs: bigint; seq: number },
    r: ClusterResult,
    queuedNs: bigint,
    degraded: boolean,
  ): void {
    const writer = this.writers.get(channel)!;
    const slot = writer.loan();
    if (slot >= 0) {
      writer.slotF32(slot).set(r.boxes);
      writer.commit(slot, r.count * CLUSTER.stride * 4, d.seq, d.stampNs, process.hrtime.bigint());
      this.scheduler.onCommit(writer.channel.index);
    }
    this.readers.get(channel)!.release(d.slot);
    const doneNs = process.hrtime.bigint();
    const ring = this.block.samples[this.graph.threads.main]!;
    ring.push(SAMPLE.sync, this.stage.index, Number(r.startNs - d.commitNs), channel);
    ring.push(SAMPLE.handoff, this.stage.index, Number(r.startNs - queuedNs), channel);
    ring.push(SAMPLE.run, this.stage.index, Number(r.endNs - r.startNs), channel);
    ring.push(SAMPLE.latency, this.stage.index, Number(doneNs - d.stampNs), channel);
    this.block.count(this.stage.index, STAGE_COUNTER.frames);
    if (degraded) this.block.count(this.stage.index, STAGE_COUNTER.degraded);
    if (Number(doneNs) > Number(d.stampNs) + this.stage.budgetNs)
      this.block.count(this.stage.index, STAGE_COUNTER.misses);
    this.block.consume(channel);
    this.inFlight.delete(channel);
    this.block.ring(this.graph.threads.main);
    // A scan committed meanwhile waited for this one.
    if (this.readers.get(channel)!.backlog() > 0) this.onCommit(channel);
  }

  async stop(): Promise<void> {
    await this.piscina.destroy();
  }
}

/** A TrafficSplit as the tracker thread runs it. */
export function splitRuntimeOf(split: SplitSpec | undefined): SplitRuntime | undefined {
  if (!split) return undefined;
  return {
    name: split.name,
    stageType: split.stageType,
    mode: split.mode,
    primaryVersion: split.primary.version,
    altVersion: split.alternative.version,
    altWeight: split.alternative.weight,
    altParams: split.alternative.params,
  };
}
