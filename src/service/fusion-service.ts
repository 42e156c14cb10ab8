import { stat } from 'node:fs/promises';
import type { MessagePort } from 'node:worker_threads';
import { openPool, type SlotPool } from '../pool/index.js';
import type { PipelineSpec, ZmqSourceSpec } from '../smi/spec/pipeline-spec.js';
import { IngestStage, type IngestOutcome } from '../sensors/ingest-stage.js';
import { metricsIngestSink, type IngestSink } from '../sensors/ingest-counters.js';
import { SENSOR_STATES, SensorHealthMonitor } from '../sensors/sensor-health.js';
import type { IngestFn, ServiceSource } from '../sensors/source.js';
import { SimulatorSource } from './simulator-source.js';
import { ZmqSensorSource } from '../io/zmq-sensor-source.js';
import type { ZapResult } from '../io/zap-authenticator.js';
import { PipelineMetrics } from '../telemetry/pipeline-metrics.js';
import { MetricsServer } from '../telemetry/metrics-server.js';
import { RateLimitedLog } from '../telemetry/reject-log-limiter.js';
import { StatusLine } from '../telemetry/status-line.js';
import type { Logger } from '../telemetry/logger.js';
import { PipelineScheduler } from '../smi/scheduler/pipeline-scheduler.js';
import { buildStageGraph, poolGeometry, type StageGraph } from '../smi/scheduler/stage-graph.js';
import { savedThreadPriority, setThreadClass } from '../workers/thread-priority.js';
import { STAGE_COUNTER } from '../workers/scheduler-block.js';
import { OVERLOAD } from '../smi/policy/admission.js';
import { emptyDescriptor, type ChannelReader } from '../pool/slot-pool.js';
import { FoxgloveFeed } from './foxglove-feed.js';
import { announceReady } from './readiness.js';
import { AccessPolicy } from '../smi/policy/access-policy.js';
import { SpecController } from '../smi/controller/spec-controller.js';
import type { GenerationEvent } from '../smi/scheduler/pipeline-scheduler.js';
import { parseSensorTopic } from '../wire/codec.js';
import { channelNames } from '../smi/spec/pipeline-spec.js';
import { ControlServer } from './control-server.js';
import { serviceStatus, type ServiceStatus } from './service-status.js';

export type { IngestFn, ServiceSource } from '../sensors/source.js';

export interface ServiceOptions {
  log: Logger;
  /** Honour injected faults (scheduler.injectFault): tests and the failover bench only. */
  faultInjection?: boolean;
  /** Where the status line goes (stdout for the CLI); omit for none. */
  statusSink?: (line: string) => void;
  statusIntervalMs?: number;
  /** Replay at max speed: one message at a time through every stage, same outputs every run. */
  deterministic?: boolean;
  /** Sources beyond the spec's (e.g. replay of a recorded drive); each gets the ingest entry point. */
  extraSources?: readonly ((ingest: IngestFn) => ServiceSource)[];
  /** Sees every message offered to ingest with its outcome (e.g. the recorder). Must not block. */
  inputTap?: (parts: readonly Uint8Array[], receivedNs: bigint, outcome: IngestOutcome) => void;
  /** Sees every message published on the output socket. Must not block. */
  outputTap?: (parts: readonly Buffer[]) => void;
  /** Simulator sources also produce ground truth (`truth/actors` wire messages) for this. Must not block. */
  groundTruthTap?: (parts: readonly Uint8Array[], receivedNs: bigint) => void;
  /**
   * The taps feed best-effort work (the recorder): under overload (level 1 and up) they are shed
   * and this sees each message instead, to count it. Without it the taps always run.
   */
  tapShed?: (parts: readonly Uint8Array[]) => void;
  /**
   * The control plane: watch these spec files (the ones the spec came from) and serve
   * `smi-fusion status` and `apply` on a loopback HTTP endpoint. Omit for neither.
   */
  control?: {
    /** Spec files or directories to watch (empty: apply only). */
    paths: readonly string[];
    /** Applied to every reloaded spec as to the first (the run flags). */
    prepare?: (spec: PipelineSpec) => void;
    host: string;
    /** 0 = any free port. */
    port: number;
  };
  /** Stage threads report per-frame spans (scheduler.telemetry.onSpan), for the bench's --trace. */
  trace?: boolean;
  /**
   * Sees every message this thread receives, before ingest (the bench: stamp → received). Unlike
   * inputTap it leaves lidar ingest on the lidar thread (whose scans it then does not see). Must not block.
   */
  receiveTap?: (parts: readonly Uint8Array[], receivedNs: bigint) => void;
}

const LIDAR_TOPIC = Buffer.from('sensor/lidar/');
/** Under light overload the recorder sheds only payloads at least this big (the copies that cost). */
const SHED_RECORDING_BYTES = 64 * 1024;

/**
 * The onboard service: sources → ingest → pool → stage threads (lidar extraction; the tracker,
 * which plans and publishes) → ZeroMQ PUB, with metrics and logs. Critical and camera messages are
 * ingested on this thread, lidar scans on the lidar thread (so a 4 MiB copy never delays a radar
 * message); every stage thread reads its inputs in place. `start` brings every part up (or fails
 * naming the part); `stop` shuts them down in reverse order within a bounded time.
 */
export class FusionService {
  readonly metrics = new PipelineMetrics({ processMetrics: true });
  readonly pool: SlotPool;
  readonly graph: StageGraph;
  readonly ingest: IngestStage;
  readonly ingestSink: IngestSink;
  readonly scheduler: PipelineScheduler;
  private readonly metricsServer: MetricsServer;
  private readonly sources: ServiceSource[] = [];
  private statusTimer: NodeJS.Timeout | undefined;
  private stopped: Promise<void> | undefined;
  /** Puts the main thread's scheduling back as start() found it (see savedThreadPriority). */
  private restorePriority: (() => void) | undefined;
  /** Why the pool runs in-process instead of in shared memory (said once at start-up). */
  private readonly poolFallback: string | undefined;
  /** Lidar scans are ingested on the lidar thread; else here (and why). */
  private readonly lidarOnThread: boolean;
  private readonly lidarOnMainReason: string | undefined;
  private lidarPort: MessagePort | undefined;
  publishEndpoint = '';
  metricsPort = -1;
  /** Endpoints the ZeroMQ sources bound or connected. */
  sourceEndpoints: string[] = [];
  /** The Foxglove live view (spec.outputs.foxglove), best-effort; undefined when off. */
  foxglove: FoxgloveFeed | undefined;
  /** Resolves when every source is connected (log line 'smi-fusion ready', metric smi_ready 1). */
  readonly ready: Promise<void>;
  private markReady: () => void = () => {};
  private viewTimer: NodeJS.Timeout | undefined;
  /** Each sensor's stream: ok, silent (degraded), restarted, or waiting for its first message. */
  readonly sensorHealth: SensorHealthMonitor;
  private healthTimer: NodeJS.Timeout | undefined;
  private readonly authLog: RateLimitedLog;

  /** TrafficTarget rules (write rules change live with a new generation). */
  private policy: AccessPolicy;
  private readonly denyLog: RateLimitedLog;
  /** Denials by `op channel subject`, for status. */
  readonly denials = new Map<string, number>();
  /** The control plane (spec watch, apply, status), when options.control asked for it. */
  controller: SpecController | undefined;
  private controlServer: ControlServer | undefined;
  controlPort = -1;
  private sourcesReady = false;
  /** The spec the pipeline runs now (the controller's latest generation). */
  current: PipelineSpec;

  private constructor(
    readonly spec: PipelineSpec,
    private readonly options: ServiceOptions,
  ) {
    const log = options.log;
    this.current = spec;
    this.denyLog = new RateLimitedLog(log);
    this.policy = policyOf(spec);
    // Read rules decide which pool readers the stages open: an input a rule refuses is not opened.
    this.graph = buildStageGraph(this.withReadRules(spec));
    const opened = openPool(poolGeometry(spec, this.graph), spec.pool);
    this.pool = opened.pool;
    this.poolFallback = opened.fallback;
    const zmqSources = spec.sources.filter((s): s is ZmqSourceSpec => s.type === 'zmq');
    this.lidarOnMainReason =
      this.policy.restricts.write && spec.sources.length > 0
        ? 'TrafficTarget write rules are checked where sources are ingested, on this thread'
        : this.graph.lidarPlacement !== 'dedicated'
          ? `lidar extraction is ${this.graph.lidarPlacement === 'none' ? 'inside the trigger cycles' : 'on the shared pool'}`
          : options.deterministic
            ? 'deterministic replay ingests every message here, one at a time'
            : zmqSources.some((s) => s.bind)
              ? 'a zmq source binds (one socket for every kind); connect to the drivers (bind: false) to separate lidar'
              : new Set(zmqSources.map((s) => JSON.stringify(s.curve ?? null))).size > 1
                ? 'zmq sources differ in their CURVE keys (the lidar thread has one socket for all)'
                : options.inputTap
                  ? 'recording taps every message on this thread'
                  : undefined;
    this.lidarOnThread = this.lidarOnMainReason === undefined;
    this.ingestSink = metricsIngestSink(this.metrics, spec.sensors);
    this.authLog = new RateLimitedLog(log);
    const stateGauge = spec.sensors.map((s) => this.metrics.sensorState.labels({ sensor: s.id }));
    this.sensorHealth = new SensorHealthMonitor(spec.sensors, this.ingestSink.counters, log, (i, state) =>
      stateGauge[i]!.set(SENSOR_STATES.indexOf(state)),
    );
    stateGauge.forEach((g) => g.set(SENSOR_STATES.indexOf('waiting')));
    this.ingest = new IngestStage(
      spec.sensors,
      this.pool,
      this.ingestSink,
      new RateLimitedLog(log),
      spec.ingest,
      {
        producers: spec.sensors.map((s) => spec.channels[s.id]!.producer),
        ingests: (i) => !(this.lidarOnThread && spec.sensors[i]!.kind === 'lidar'),
      },
    );
    this.scheduler = new PipelineScheduler(
      spec,
      this.graph,
      this.pool,
      this.metrics,
      log,
      this.ingestSink.counters,
      {
        deterministic: options.deterministic ?? false,
        lidarIngestOnThread: this.lidarOnThread,
        lidarZmq:
          this.lidarOnThread && zmqSources.length > 0
            ? {
                endpoints: zmqSources.flatMap((s) => s.endpoints),
                bind: false,
                ...(zmqSources[0]!.curve ? { curve: zmqSources[0]!.curve } : {}),
              }
            : undefined,
        faultInjection: options.faultInjection ?? false,
        postPlans: spec.sources.some((s) => s.type === 'simulator' && s.closedLoop),
        logLevel: log.level,
        generation: 1,
        traceSpans: options.trace ?? false,
      },
    );
    this.ingest.onCommit((i) => this.scheduler.onCommit(i));
    this.metricsServer = new MetricsServer(this.metrics, () => this.refreshGauges());
    this.ready = new Promise((resolve) => (this.markReady = resolve));
  }

  /** Builds and starts every part of the pipeline described by `spec`. */
  static async start(spec: PipelineSpec, options: ServiceOptions): Promise<FusionService> {
    const service = new FusionService(spec, options);
    try {
      await service.startParts();
    } catch (err) {
      await service.stop();
      throw err;
    }
    return service;
  }

  private async startParts(): Promise<void> {
    const { spec, options } = this;
    const log = options.log;
    const external = spec.sensors.filter((sensor) => spec.channels[sensor.id]!.producer === 'external');
    if (external.length > 0 && this.pool.segment === undefined) {
      throw new Error(
        `channels ${external.map((e) => `'${e.id}'`).join(', ')} are written by an external producer, which needs ` +
          `the shared-memory pool; this pool is in-process (${this.poolFallback ?? `spec.pool.implementation '${spec.pool.implementation}'`})`,
      );
    }
    // This thread ingests critical messages: it runs at the critical class's priority. Threads
    // created from here on inherit it: libuv's pool (file I/O) is started first so that it does
    // not; stage and simulator threads set their own; ZeroMQ's I/O thread, which receives the
    // critical sockets' messages, keeps it.
    let mainPriority = 'priority unchanged';
    if (spec.scheduler.threadPriorities) {
      await stat(process.cwd());
      this.restorePriority = savedThreadPriority();
      mainPriority = setThreadClass(0, options.deterministic ? 0 : spec.scheduler.realtimePriority);
    }
    if (spec.outputs.metrics.enabled) {
      this.metricsPort = await this.metricsServer.listen(
        spec.outputs.metrics.host,
        spec.outputs.metrics.port,
      );
    }
    await this.scheduler.start();
    if (spec.outputs.foxglove) this.foxglove = await FoxgloveFeed.start(spec, this.metrics, log);
    const fox = this.foxglove;
    this.publishEndpoint = this.scheduler.publishEndpoint;
    this.sourceEndpoints.push(...this.scheduler.lidarZmqEndpoints);
    const shedTap = this.bestEffortShedder();
    if (options.outputTap || fox) {
      const tap = options.outputTap;
      this.scheduler.onOutputs((parts) => {
        if (tap && !shedTap(parts)) tap(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
        // The live view is best-effort too: it gives way under overload.
        if (fox && this.scheduler.block.overload < OVERLOAD.shedBestEffort) fox.onOutput(parts);
      });
    }
    this.lidarPort = this.scheduler.lidarFramePort();
    const rawInputTap = options.inputTap;
    const inputTap: ServiceOptions['inputTap'] = rawInputTap
      ? (parts, receivedNs, outcome) => {
          if (!shedTap(parts)) rawInputTap(parts, receivedNs, outcome);
        }
      : undefined;
    const rawTruthTap = options.groundTruthTap;
    const truthTap: ServiceOptions['groundTruthTap'] =
      rawTruthTap || fox
        ? (parts, receivedNs) => {
            if (rawTruthTap && !shedTap(parts)) rawTruthTap(parts, receivedNs);
            if (fox && this.scheduler.block.overload < OVERLOAD.shedBestEffort) fox.onTruth(parts);
          }
        : undefined;
    const port = this.lidarPort;
    const receiveTap = options.receiveTap;
    const onMessage: IngestFn = (parts, receivedNs, clockNs) => {
      receiveTap?.(parts, receivedNs);
      if (port && isLidarTopic(parts[0])) {
        if (!this.scheduler.lidarAlive) {
          // Its thread died and is not replaced: the scan is lost, and counted.
          this.metrics.threadLostFrames.inc({ thread: 'lidar' });
          return 'dropped';
        }
        // Ingested on the lidar thread; a copy, since the caller may reuse its buffers.
        const copies = parts.map((p) => p.slice());
        port.postMessage(
          { parts: copies, receivedNs, clockNs },
          copies.map((c) => c.buffer as ArrayBuffer),
        );
        return 'forwarded';
      }
      const outcome = this.ingest.ingest(parts, receivedNs, clockNs);
      inputTap?.(parts, receivedNs, outcome);
      if (fox && this.scheduler.block.overload < OVERLOAD.shedBestEffort) fox.onIngest(parts, outcome);
      return outcome;
    };
    for (const src of spec.sources) {
      const fromSource = this.checkedWrites(src.name, onMessage);
      if (src.type === 'zmq') {
        for (const zmq of this.zmqSockets(src, fromSource)) {
          this.sources.push(zmq);
          await zmq.start();
          for (const e of zmq.endpoints) if (!this.sourceEndpoints.includes(e)) this.sourceEndpoints.push(e);
        }
      } else {
        const sim = new SimulatorSource(
          {
            scenario: src.scenario,
            rig: spec.sensors,
            seed: src.seed,
            loop: src.loop,
            closedLoop: src.closedLoop,
            groundTruth: truthTap !== undefined,
            // One simulator per lidar port: a second one sends its lidar through this thread.
            lidarPort: this.takeLidarPort(),
          },
          fromSource,
          log,
          {
            onLoop: () => {
              this.ingest.resetSensorHistory();
              this.scheduler.resetTracker();
            },
            onTruth: truthTap,
          },
        );
        this.sources.push(sim);
        this.scheduler.onPlan((accel, decision) => sim.setAccel(decision === 'cruise' ? null : accel));
        await sim.start();
      }
    }
    for (const make of options.extraSources ?? []) {
      const source = make(onMessage);
      this.sources.push(source);
      await source.start();
    }
    if (options.statusSink) {
      const telemetry = this.scheduler.telemetry;
      const received = new Float64Array(spec.sensors.length);
      const status = new StatusLine({
        sensors: spec.sensors,
        received,
        rejected: () => this.ingest.rejectedCount,
        dropped: () => this.ingest.droppedCount + this.droppedOldest(),
        tracks: () => telemetry.planStatus().tracks,
        decision: () => telemetry.planStatus(),
        e2e: telemetry.e2eWindow,
      });
      const sink = options.statusSink;
      this.statusTimer = setInterval(() => {
        telemetry.drain();
        for (let i = 0; i < received.length; i++) received[i] = this.ingest.receivedOf(i);
        sink(status.next());
      }, options.statusIntervalMs ?? 1000);
    }
    const threads = this.scheduler.telemetry.status().threads;
    log.info(
      {
        pipeline: spec.name,
        origin: spec.origin,
        mode: spec.scheduler.mode,
        publish: this.publishEndpoint,
        metrics:
          this.metricsPort >= 0 ? `http://${spec.outputs.metrics.host}:${this.metricsPort}/metrics` : 'off',
        sensors: spec.sensors.length,
        stages: this.graph.stages.map((s) => `${s.name} (${s.class}, ${s.budgetMs} ms, ${s.placement})`),
        threads: [
          `main (ingest): ${mainPriority}`,
          ...threads.filter((t) => t.name !== 'main').map((t) => `${t.name}: ${t.priority}`),
        ],
        lidarIngest: this.lidarOnThread ? 'lidar thread' : `main thread (${this.lidarOnMainReason})`,
        foxglove: fox?.server.url ?? 'off',
        poolBytes: this.pool.sab.byteLength,
        pool: this.pool.describe(),
      },
      'smi-fusion started',
    );
    for (const w of spec.warnings) log.warn({ path: w.path }, w.message);
    if (this.pool.replacedStaleOf !== undefined) {
      log.warn(
        { segment: this.pool.segment, deadPid: this.pool.replacedStaleOf },
        'pool: replaced a stale shared-memory segment left by a dead instance (nothing of it reused)',
      );
    }
    if (external.length > 0) {
      this.scheduler.watchExternalChannels();
      log.info(
        { segment: this.pool.segment, channels: external.map((e) => e.id) },
        'waiting for external producers on the shared-memory pool',
      );
    }
    if (fox && this.lidarOnThread) this.viewLidarFromPool(fox);
    void announceReady(this.sources, this.metrics, log, this.sourceEndpoints).then(() => {
      this.sourcesReady = true;
      this.markReady();
    });
    if (!options.deterministic) {
      // (Deterministic replay runs on the drive's clock, not this one: no silence to see.)
      this.healthTimer = setInterval(() => this.sensorHealth.update(performance.now()), 100);
      this.healthTimer.unref();
    }
    if (options.control) await this.startControl(options.control);
    if (this.poolFallback) {
      log.warn(
        { reason: this.poolFallback },
        'pool: no shared-memory segment; running the pure-JS ring over an in-process SharedArrayBuffer',
      );
    }
  }

  /** Stage inputs a read rule refuses are left out (counted, logged once each); so are external channels a write rule refuses. */
  private withReadRules(spec: PipelineSpec): PipelineSpec {
    const p = this.policy;
    if (!p.restricts.read && !p.restricts.write) return spec;
    const external = p.subjectIndex('write', 'external');
    const stages = spec.stages.map((s) => ({
      ...s,
      inputs: s.inputs.filter((input) => {
        const channel = p.channels.indexOf(input.channel);
        const subject = `stage:${s.name}`;
        if (!p.allows('read', p.subjectIndex('read', subject), channel)) {
          this.deny(
            'read',
            input.channel,
            subject,
            `TrafficTarget: stage '${s.name}' may not read '${input.channel}'; its pool reader is not opened`,
          );
          return false;
        }
        if (spec.channels[input.channel]?.producer === 'external' && !p.allows('write', external, channel)) {
          this.deny(
            'write',
            input.channel,
            'external',
            `TrafficTarget: no external producer may write '${input.channel}'; its channel is not read`,
          );
          return false;
        }
        return true;
      }),
    }));
    return { ...spec, stages };
  }

  /** Counts and logs (at most once a second per reason) a write or read a TrafficTarget refused. */
  private deny(op: 'write' | 'read', channel: string, subject: string, message: string): void {
    this.metrics.accessDenied.inc({ channel, subject, op });
    const key = `${op} ${channel} ${subject}`;
    this.denials.set(key, (this.denials.get(key) ?? 0) + 1);
    this.denyLog.warn(`access:${key}`, { op, channel, subject }, message);
  }

  /**
   * The ingest entry point of one named source: with write rules, a message on a channel the
   * source may not write (another producer's channel, or a sensor id it claims that is not its
   * own) is refused before ingest, counted and logged.
   */
  private checkedWrites(source: string, onMessage: IngestFn): IngestFn {
    const subject = `source:${source}`;
    const decoder = new TextDecoder();
    return (parts, receivedNs, clockNs) => {
      const policy = this.policy;
      if (!policy.restricts.write || !parts[0]) return onMessage(parts, receivedNs, clockNs);
      const topic = parseSensorTopic(decoder.decode(parts[0]));
      // A topic that is no sensor's is ingest's to refuse (with its own reason).
      if (!topic) return onMessage(parts, receivedNs, clockNs);
      const channel = policy.channels.indexOf(topic.sensorId);
      if (channel >= 0 && !policy.allows('write', policy.subjectIndex('write', subject), channel)) {
        this.deny(
          'write',
          topic.sensorId,
          subject,
          `TrafficTarget: source '${source}' may not write '${topic.sensorId}'; message refused`,
        );
        return 'rejected';
      }
      return onMessage(parts, receivedNs, clockNs);
    };
  }

  /** Starts the controller (spec watch) and the loopback control endpoint. */
  private async startControl(control: NonNullable<ServiceOptions['control']>): Promise<void> {
    const log = this.options.log;
    const controller = new SpecController(
      this.spec,
      { apply: (next, g) => this.applyGeneration(next, g) },
      log,
      {
        paths: control.paths,
        prepare: control.prepare,
      },
    );
    this.controller = controller;
    this.scheduler.onGeneration((e) => {
      if (e.firstFrameAtMs !== undefined) controller.noteFirstFrame(e.generation, e.firstFrameAtMs);
    });
    controller.start();
    this.controlServer = new ControlServer({
      status: () => this.status(),
      apply: (file, text) => controller.apply(file, text),
    });
    try {
      this.controlPort = await this.controlServer.listen(control.host, control.port);
    } catch (err) {
      // The pipeline matters more than its status: it runs on, without the endpoint.
      log.warn(
        { err: (err as Error).message },
        'no control endpoint (status, apply); the spec files are still watched',
      );
      this.controlServer = undefined;
      return;
    }
    log.info(
      { endpoint: `http://${control.host}:${this.controlPort}`, watching: control.paths },
      'control endpoint up (status, apply)',
    );
  }

  /**
   * Applies a new generation to the running pipeline (the controller checked it needs no
   * restart): the stage threads between two frames, the write rules here. Resolves once the
   * tracker thread took it (or refused it), bounded.
   */
  async applyGeneration(
    next: PipelineSpec,
    generation: number,
  ): Promise<{ ok: true; appliedAtMs: number } | { ok: false; message: string }> {
    const answer = new Promise<GenerationEvent | undefined>((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(undefined);
      }, 2000);
      const off = this.scheduler.onGeneration((e) => {
        if (e.generation !== generation) return;
        clearTimeout(timer);
        off();
        resolve(e);
      });
    });
    this.scheduler.reconfigure(next, generation);
    const e = await answer;
    if (!e) return { ok: false, message: 'the tracker thread did not answer within 2 s' };
    if (e.error !== undefined) return { ok: false, message: e.error };
    this.scheduler.commitGeneration(next, generation);
    this.policy = policyOf(next);
    this.current = next;
    this.metrics.generation.set(generation);
    return { ok: true, appliedAtMs: e.appliedAtMs };
  }

  /** The live state for `smi-fusion status` (README, "Control plane"). */
  status(): ServiceStatus {
    return serviceStatus(this, this.sourcesReady);
  }

  /**
   * Whether a tap's message is shed now (returns true, counted for the recorder stage and told
   * to tapShed): the taps are the recorder's, best-effort work that gives way first under overload.
   */
  private bestEffortShedder(): (parts: readonly Uint8Array[]) => boolean {
    const shed = this.options.tapShed;
    const stage = this.graph.stages.find((s) => s.type === 'recorder');
    if (!shed || !stage) return () => false;
    const block = this.scheduler.block;
    return (parts) => {
      // What competes with critical ingest on this thread is the copy of big payloads (scans):
      // those are shed first; everything is shed once normal work is shed too.
      const level = block.overload;
      if (level < OVERLOAD.shedBestEffort) return false;
      if (level < OVERLOAD.shedNormal && (parts[2]?.byteLength ?? 0) < SHED_RECORDING_BYTES) return false;
      block.count(stage.index, STAGE_COUNTER.shedOverload);
      shed(parts);
      return true;
    };
  }

  /**
   * Lidar scans are ingested on the lidar thread, so the live view takes them from the pool: the
   * newest scan of each lidar, read in place through a reader of its own (latest access: the
   * pipeline never waits for it), each scan once, only when a viewer wants it and the pipeline is
   * not overloaded (the server encodes it only when the viewer has room).
   */
  private viewLidarFromPool(fox: FoxgloveFeed): void {
    const readers: { sensor: number; reader: ChannelReader }[] = [];
    this.spec.sensors.forEach((s, i) => {
      if (s.kind !== 'lidar') return;
      try {
        readers.push({ sensor: i, reader: this.pool.reader(i, 'latest') });
      } catch (err) {
        this.options.log.warn({ err, sensor: s.id }, 'live view: no reader entry left on the lidar channel');
      }
    });
    const d = emptyDescriptor();
    const hz = Math.max(...this.spec.sensors.filter((s) => s.kind === 'lidar').map((s) => s.rateHz), 1);
    this.viewTimer = setInterval(() => {
      if (this.scheduler.block.overload >= OVERLOAD.shedBestEffort) return;
      for (const { sensor, reader } of readers) {
        const id = this.spec.sensors[sensor]!.id;
        if (!fox.server.wantsPointCloud(id) || !reader.latest(d)) continue;
        const view = new Float32Array(this.pool.sab, this.pool.slotOffset(sensor, d.slot), d.length >> 2);
        try {
          fox.server.offerPointCloud(id, d.stampNs, view, d.length >> 4);
        } finally {
          reader.release(d.slot);
        }
      }
      // Twice the lidar's rate: every scan is seen, none twice (latest access).
    }, 500 / hz);
    this.viewTimer.unref();
  }

  /** The lidar port for the first simulator; later ones get none. */
  private takeLidarPort(): MessagePort | undefined {
    const p = this.lidarPort;
    this.lidarPort = undefined;
    return p;
  }

  /**
   * The SUB sockets of one zmq source. Connecting to drivers (bind: false), one socket per class
   * of traffic, each with its own queue: critical (radar, ego, object lists) and camera here, lidar on the
   * lidar thread. A binding source has one socket for every kind (two sockets cannot bind one
   * endpoint).
   */
  private zmqSockets(src: ZmqSourceSpec, onMessage: IngestFn): ZmqSensorSource[] {
    const log = this.options.log;
    const onAuth = (socket: string) => (r: ZapResult) => {
      this.metrics.zmqAuth.labels({ socket, result: r.accepted ? 'accepted' : 'refused' }).inc();
      // Public keys are not secrets: logged so an operator can see who tried.
      this.authLog.warn(
        `${socket}\u0000${r.clientKey}\u0000${r.accepted}`,
        { socket, clientKey: r.clientKey, address: r.address },
        r.accepted
          ? 'zmq peer authenticated (CURVE)'
          : r.clientKey
            ? 'zmq peer refused: its CURVE public key is not allowed'
            : 'zmq peer refused: no valid CURVE handshake',
      );
    };
    if (src.bind) return [new ZmqSensorSource(src, onMessage, log, { name: 'all', onAuth: onAuth('all') })];
    const sockets = [
      new ZmqSensorSource(src, onMessage, log, {
        subscribe: ['sensor/radar/', 'sensor/ego/', 'sensor/objects/'],
        highWaterMark: 10_000,
        name: 'critical',
        onAuth: onAuth('critical'),
      }),
      new ZmqSensorSource(src, onMessage, log, {
        subscribe: ['sensor/camera/'],
        highWaterMark: 10_000,
        name: 'camera',
        onAuth: onAuth('camera'),
      }),
    ];
    if (!this.lidarOnThread) {
      sockets.push(
        new ZmqSensorSource(src, onMessage, log, {
          subscribe: ['sensor/lidar/'],
          highWaterMark: 16,
          name: 'lidar',
          onAuth: onAuth('lidar'),
        }),
      );
    }
    return sockets;
  }

  private droppedOldest(): number {
    let n = 0;
    for (const ch of this.pool.channels) n += this.pool.stats(ch.index).droppedOldest;
    return n;
  }

  /** The pool keeps its event counters in shared memory; scrapes turn them into counter increments. */
  private readonly poolEventsSeen = new Map<string, number>();

  private refreshGauges(): void {
    this.pool.channels.forEach((ch) => {
      const stats = this.pool.stats(ch.index);
      this.metrics.poolSlotsInUse.set({ channel: ch.name }, stats.slotsInUse);
      this.metrics.poolSlots.set({ channel: ch.name }, ch.slotCount);
      const events: [string, number][] = [
        ['overwritten', stats.overwritten],
        ['dropped_oldest', stats.droppedOldest],
        ['dropped_full', stats.droppedFull],
        ['torn_retry', stats.tornRetries],
        ['reclaimed_slot', stats.reclaimedSlots],
        ['reclaimed_reader', stats.reclaimedReaders],
        ['too_large', stats.tooLarge],
        ['backpressure', stats.backpressure],
        ['dead_writer', stats.deadWriters],
      ];
      for (const [event, value] of events) {
        const key = `${ch.name}\u0000${event}`;
        const delta = value - (this.poolEventsSeen.get(key) ?? 0);
        this.poolEventsSeen.set(key, value);
        this.metrics.poolEvents.inc({ channel: ch.name, event }, delta > 0 ? delta : 0);
      }
    });
  }

  /** Stops sources, then the stage threads (bounded), closes sockets and the metrics server. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      if (this.statusTimer) clearInterval(this.statusTimer);
      if (this.healthTimer) clearInterval(this.healthTimer);
      this.controller?.close();
      await this.controlServer?.close();
      if (this.viewTimer) clearInterval(this.viewTimer);
      await Promise.all(this.sources.map((s) => s.stop()));
      this.ingest.close();
      this.lidarPort?.close();
      await this.scheduler.stop();
      this.restorePriority?.();
      this.pool.close(); // unlinks the segment name; drivers holding a mapping keep it until they close
      await this.foxglove?.close();
      await this.metricsServer.close();
      const status = this.scheduler.telemetry.planStatus();
      this.options.log.info(
        {
          cycles: status.cycles,
          plans: status.plans,
          rejected: this.ingest.rejectedCount,
          dropped: this.ingest.droppedCount,
        },
        'smi-fusion stopped',
      );
    })();
    return this.stopped;
  }
}

function isLidarTopic(topic: Uint8Array | undefined): boolean {
  if (!topic || topic.byteLength <= LIDAR_TOPIC.byteLength) return false;
  for (let i = 0; i < LIDAR_TOPIC.byteLength; i++) if (topic[i] !== LIDAR_TOPIC[i]) return false;
  return true;
}

function policyOf(spec: PipelineSpec): AccessPolicy {
  return new AccessPolicy(spec.targets, channelNames(spec), {
    sources: spec.sources.map((s) => s.name),
    stages: spec.stages.map((s) => s.name),
  });
}
