import { openPool, type SlotPool } from '../pool/index.js';
import type { PipelineSpec } from '../smi/spec/pipeline-spec.js';
import { IngestStage, type IngestOutcome } from '../sensors/ingest-stage.js';
import type { IngestFn, ServiceSource } from '../sensors/source.js';
import { SimulatorSource } from './simulator-source.js';
import { ZmqSensorSource } from '../io/zmq-sensor-source.js';
import { OutputPublisher } from '../io/output-publisher.js';
import { PipelineMetrics } from '../telemetry/pipeline-metrics.js';
import { MetricsServer } from '../telemetry/metrics-server.js';
import { RateLimitedLog } from '../telemetry/reject-log-limiter.js';
import { StatusLine } from '../telemetry/status-line.js';
import type { Logger } from '../telemetry/logger.js';
import { FusionCycleScheduler } from './fusion-cycle-scheduler.js';
import { FoxgloveFeed } from './foxglove-feed.js';
import { announceReady } from './readiness.js';

export type { IngestFn, ServiceSource } from '../sensors/source.js';

export interface ServiceOptions {
  log: Logger;
  /** Where the status line goes (stdout for the CLI); omit for none. */
  statusSink?: (line: string) => void;
  statusIntervalMs?: number;
  /** Replay at max speed: cycles are cut exactly at triggers (see FusionCycleScheduler). */
  deterministic?: boolean;
  /** Sources beyond the spec's (e.g. replay of a recorded drive); each gets the ingest entry point. */
  extraSources?: readonly ((ingest: IngestFn) => ServiceSource)[];
  /** Sees every message offered to ingest with its outcome (e.g. the recorder). Must not block. */
  inputTap?: (parts: readonly Uint8Array[], receivedNs: bigint, outcome: IngestOutcome) => void;
  /** Sees every message published on the output socket. Must not block. */
  outputTap?: (parts: readonly Buffer[]) => void;
  /** Simulator sources also produce ground truth (`truth/actors` wire messages) for this. Must not block. */
  groundTruthTap?: (parts: readonly Uint8Array[], receivedNs: bigint) => void;
}

/**
 * The onboard service: sources → ingest → pool → fusion worker → planning worker → ZeroMQ PUB,
 * with metrics and logs. `start` brings every part up (or fails naming the part); `stop` shuts
 * them down in reverse order, finishing the cycle in flight.
 */
export class FusionService {
  readonly metrics = new PipelineMetrics({ processMetrics: true });
  readonly pool: SlotPool;
  readonly ingest: IngestStage;
  readonly scheduler: FusionCycleScheduler;
  readonly publisher = new OutputPublisher();
  private readonly metricsServer: MetricsServer;
  private readonly sources: ServiceSource[] = [];
  private statusTimer: NodeJS.Timeout | undefined;
  private stopped: Promise<void> | undefined;
  /** Why the pool runs in-process instead of in shared memory (said once at start-up). */
  private readonly poolFallback: string | undefined;
  publishEndpoint = '';
  metricsPort = -1;
  /** Endpoints the ZeroMQ sources bound or connected. */
  sourceEndpoints: string[] = [];
  /** The Foxglove live view (spec.outputs.foxglove), best-effort; undefined when off. */
  foxglove: FoxgloveFeed | undefined;
  /** Resolves when every source is connected (log line 'smi-fusion ready', metric smi_ready 1). */
  readonly ready: Promise<void>;
  private markReady: () => void = () => {};

  private constructor(
    readonly spec: PipelineSpec,
    private readonly options: ServiceOptions,
  ) {
    const log = options.log;
    // One reader entry per channel, reserved for the scheduler with the channel's access pattern.
    const opened = openPool(
      spec.sensors.map((s) => ({
        name: s.id,
        slotCount: spec.channels[s.id]!.slots,
        slotBytes: spec.channels[s.id]!.slotBytes,
        readerCount: 1,
        access: spec.channels[s.id]!.access,
      })),
      spec.pool,
    );
    this.pool = opened.pool;
    this.poolFallback = opened.fallback;
    this.ingest = new IngestStage(
      spec.sensors,
      this.pool,
      this.metrics,
      new RateLimitedLog(log),
      spec.ingest,
      spec.sensors.map((sensor) => spec.channels[sensor.id]!.producer),
    );
    this.scheduler = new FusionCycleScheduler(spec, this.pool, this.metrics, log, this.publisher, {
      deterministic: options.deterministic,
    });
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
    this.publishEndpoint = await this.publisher.bind(spec.outputs.publish);
    if (spec.outputs.metrics.enabled) {
      this.metricsPort = await this.metricsServer.listen(
        spec.outputs.metrics.host,
        spec.outputs.metrics.port,
      );
    }
    if (spec.outputs.foxglove) this.foxglove = await FoxgloveFeed.start(spec, this.metrics, log);
    const fox = this.foxglove;
    const tap = options.inputTap;
    const onMessage: IngestFn = (parts, receivedNs, clockNs) => {
      const outcome = this.ingest.ingest(parts, receivedNs, clockNs);
      tap?.(parts, receivedNs, outcome);
      fox?.onIngest(parts, outcome);
      return outcome;
    };
    const outputTap = options.outputTap;
    if (outputTap || fox) this.publisher.tap = (parts) => (outputTap?.(parts), fox?.onOutput(parts));
    const truthTap = options.groundTruthTap;
    const onTruth =
      truthTap || fox
        ? (parts: Uint8Array[], ns: bigint) => (truthTap?.(parts, ns), fox?.onTruth(parts))
        : undefined;
    for (const src of spec.sources) {
      if (src.type === 'zmq') {
        const zmq = new ZmqSensorSource(src, onMessage, log);
        this.sources.push(zmq);
        await zmq.start();
        this.sourceEndpoints.push(...zmq.endpoints);
      } else {
        const sim = new SimulatorSource(
          {
            scenario: src.scenario,
            rig: spec.sensors,
            seed: src.seed,
            loop: src.loop,
            closedLoop: src.closedLoop,
            groundTruth: onTruth !== undefined,
          },
          onMessage,
          log,
          {
            onLoop: () => {
              this.ingest.resetSensorHistory();
              this.scheduler.resetTracker();
            },
            onTruth,
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
      const status = new StatusLine({
        sensors: spec.sensors,
        received: this.ingest.receivedCount,
        rejected: () => this.ingest.rejectedCount,
        dropped: () => this.ingest.droppedCount,
        tracks: () => this.scheduler.status.tracks,
        decision: () => this.scheduler.status,
        e2e: this.scheduler.e2eWindow,
      });
      const sink = options.statusSink;
      this.statusTimer = setInterval(() => sink(status.next()), options.statusIntervalMs ?? 1000);
    }
    log.info(
      {
        pipeline: spec.name,
        origin: spec.origin,
        publish: this.publishEndpoint,
        metrics:
          this.metricsPort >= 0 ? `http://${spec.outputs.metrics.host}:${this.metricsPort}/metrics` : 'off',
        foxglove: fox?.server.url ?? 'off',
        sensors: spec.sensors.length,
        poolBytes: this.pool.sab.byteLength,
        pool: this.pool.describe(),
      },
      'smi-fusion started',
    );
    if (external.length > 0) {
      this.scheduler.watchExternalChannels((i, d) =>
        this.ingest.admitExternal(i, d, process.hrtime.bigint()),
      );
      log.info(
        { segment: this.pool.segment, channels: external.map((e) => e.id) },
        'waiting for external producers on the shared-memory pool',
      );
    }
    void announceReady(this.sources, this.metrics, log, this.sourceEndpoints).then(this.markReady);
    if (this.poolFallback) {
      log.warn(
        { reason: this.poolFallback },
        'pool: no shared-memory segment; running the pure-JS ring over an in-process SharedArrayBuffer',
      );
    }
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

  /** Stops sources, drains the cycle in flight, closes sockets, workers and the metrics server. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      if (this.statusTimer) clearInterval(this.statusTimer);
      await Promise.all(this.sources.map((s) => s.stop()));
      await this.scheduler.stop();
      this.pool.close(); // unlinks the segment name; drivers holding a mapping keep it until they close
      await this.publisher.close();
      await this.foxglove?.close();
      await this.metricsServer.close();
      this.options.log.info(
        {
          cycles: this.scheduler.status.cycles,
          rejected: this.ingest.rejectedCount,
          dropped: this.ingest.droppedCount,
        },
        'smi-fusion stopped',
      );
    })();
    return this.stopped;
  }
}
