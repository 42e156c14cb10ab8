import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Latency buckets in seconds: 50 µs to 2 s, dense where the budget lives (1-100 ms). */
const LATENCY_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.075, 0.1, 0.25,
  0.5, 1, 2,
];

/**
 * Every metric the service exports, on a registry of its own (so two services in one process,
 * as in tests, do not collide). Names follow DESIGN.md's latency names.
 */
export class PipelineMetrics {
  readonly registry = new Registry();
  private readonly collectors: (() => void)[] = [];
  /** Runs every collector: metrics kept elsewhere (shared memory) are brought up to date on read. */
  private readonly collect = (): void => {
    for (const c of this.collectors) c();
  };

  readonly received = new Counter({
    name: 'smi_ingest_received_total',
    help: 'Sensor messages accepted into the pool, per sensor',
    labelNames: ['sensor', 'kind'] as const,
    registers: [this.registry],
    collect: this.collect,
  });

  readonly rejected = new Counter({
    name: 'smi_ingest_rejected_total',
    help: 'Sensor messages refused at ingest, per sensor and reason (see README: rejection reasons)',
    labelNames: ['sensor', 'reason'] as const,
    registers: [this.registry],
    collect: this.collect,
  });

  readonly sensorEvents = new Counter({
    name: 'smi_ingest_sensor_events_total',
    help: 'Changes in a sensor stream that ingest followed without refusing it: restart (seq began again), clock_jump (stamps went back and stayed there)',
    labelNames: ['sensor', 'event'] as const,
    registers: [this.registry],
    collect: this.collect,
  });

  readonly sensorState = new Gauge({
    name: 'smi_sensor_state',
    help: 'Each sensor stream: 0 ok, 1 silent (no message for 5 periods: degraded), 2 restarted (seq began again or clock jumped, within the last second), 3 waiting for its first message',
    labelNames: ['sensor'] as const,
    registers: [this.registry],
  });

  readonly zmqAuth = new Counter({
    name: 'smi_zmq_auth_total',
    help: 'CURVE handshakes on zmq sources, per socket and result (accepted, refused: a public key not allowed)',
    labelNames: ['socket', 'result'] as const,
    registers: [this.registry],
  });

  readonly poolDropped = new Counter({
    name: 'smi_pool_dropped_total',
    help: 'Valid messages dropped because their channel had no free slot (drop-newest, or every slot taken)',
    labelNames: ['channel'] as const,
    registers: [this.registry],
    collect: this.collect,
  });

  readonly ingestLatency = new Histogram({
    name: 'smi_ingest_latency_seconds',
    help: 'ingest: message received to slot committed in the pool',
    labelNames: ['kind'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly handoffLatency = new Histogram({
    name: 'smi_handoff_latency_seconds',
    help: 'handoff: slot committed to the consuming stage thread holding its descriptor (the wake-up)',
    labelNames: ['stage'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly syncLatency = new Histogram({
    name: 'smi_sync_latency_seconds',
    help: 'sync: measurement committed to its stage starting to use it (waiting for the thread, or for a trigger in the baseline)',
    labelNames: ['stage'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly fusionLatency = new Histogram({
    name: 'smi_fusion_latency_seconds',
    help: "fusion: newest fused measurement's stampNs to tracks published",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly e2eLatency = new Histogram({
    name: 'smi_e2e_latency_seconds',
    help: 'e2e: stampNs of the measurement that triggered a plan to plan published, by the kind of that measurement',
    labelNames: ['trigger'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly stageLatency = new Histogram({
    name: 'smi_stage_latency_seconds',
    help: "A stage's input stampNs (for lidar boxes: their commit) to the stage done with it (what its budget bounds)",
    labelNames: ['stage', 'class'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly stageRun = new Histogram({
    name: 'smi_stage_run_seconds',
    help: "A stage's run time on one frame",
    labelNames: ['stage', 'class'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly schedFrames = new Counter({
    name: 'smi_sched_frames_total',
    help: 'Frames a stage ran',
    labelNames: ['stage', 'class'] as const,
    registers: [this.registry],
    collect: this.collect,
  });

  readonly schedShed = new Counter({
    name: 'smi_sched_shed_total',
    help: 'Frames shed before they started: deadline (could not make it), overload (class shed), superseded (a newer frame of a latest input), late (older than the reorder window), queue_full',
    labelNames: ['stage', 'class', 'reason'] as const,
    registers: [this.registry],
    collect: this.collect,
  });

  readonly outputDropped = new Counter({
    name: 'smi_output_dropped_total',
    help: 'Published messages (out/tracks, out/plan) lost on their way out: ring_full (the main thread fell a whole output ring behind the tracker thread), send_failed (the PUB socket refused them)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
    collect: this.collect,
  });

  readonly threadRestarts = new Counter({
    name: 'smi_stage_thread_restarts_total',
    help: 'Stage threads that died after start (threw, crashed or were terminated), per thread and outcome: replaced (a standby or a new thread took over), gave_up (more deaths than scheduler.recovery allows)',
    labelNames: ['thread', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly threadLostFrames = new Counter({
    name: 'smi_stage_thread_lost_frames_total',
    help: 'Frames a stage thread had taken and not finished when it died (not fused; the checkpoint it resumed from predates them)',
    labelNames: ['thread'] as const,
    registers: [this.registry],
  });

  readonly threadOutage = new Histogram({
    name: 'smi_stage_thread_outage_seconds',
    help: 'A stage thread death to its replacement running (gap) and to the replacement first output (first_output)',
    labelNames: ['thread', 'until'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly threadUp = new Gauge({
    name: 'smi_stage_thread_up',
    help: 'Each stage thread: 1 running, 0 dead (being replaced, or given up)',
    labelNames: ['thread'] as const,
    registers: [this.registry],
  });

  readonly schedDegraded = new Counter({
    name: 'smi_sched_degraded_total',
    help: 'Frames run degraded (lidar: coarser grid, half the points) to make their deadline or under overload',
    labelNames: ['stage', 'class'] as const,
    registers: [this.registry],
    collect: this.collect,
  });

  readonly schedMisses = new Counter({
    name: 'smi_sched_deadline_miss_total',
    help: 'Frames that finished after their deadline (stampNs + the stage budget)',
    labelNames: ['stage', 'class'] as const,
    registers: [this.registry],
    collect: this.collect,
  });

  readonly schedQueueDepth = new Gauge({
    name: 'smi_sched_queue_depth',
    help: "Frames waiting in a stage's ready queue",
    labelNames: ['stage', 'class'] as const,
    registers: [this.registry],
    collect: this.collect,
  });

  readonly schedLagging = new Gauge({
    name: 'smi_sched_lagging',
    help: "1 while a stage's average period over its last window (>= 1 s) exceeds 1.5x the expected one",
    labelNames: ['stage'] as const,
    registers: [this.registry],
    collect: this.collect,
  });

  readonly schedLagEpisodes = new Counter({
    name: 'smi_sched_lag_total',
    help: 'Times a stage started lagging (its average period over a window of >= 1 s above 1.5x the expected)',
    labelNames: ['stage'] as const,
    registers: [this.registry],
    collect: this.collect,
  });

  readonly schedRewinds = new Counter({
    name: 'smi_sched_rewinds_total',
    help: 'Late measurements fused in stamp order by rewinding the tracker',
    labelNames: ['stage'] as const,
    registers: [this.registry],
    collect: this.collect,
  });

  readonly schedOverload = new Gauge({
    name: 'smi_sched_overload_level',
    help: 'Overload level: 0 none, 1 best-effort shed, 2 normal shed too, 3 high degraded too',
    registers: [this.registry],
    collect: this.collect,
  });

  readonly schedPrefetch = new Counter({
    name: 'smi_sched_prefetch_total',
    help: 'Predictive prefetch spins: hit (the frame came while spinning) or miss (the futex wait followed)',
    labelNames: ['result'] as const,
    registers: [this.registry],
    collect: this.collect,
  });

  readonly threadSeconds = new Counter({
    name: 'smi_thread_seconds_total',
    help: 'Time a stage thread spent spinning for prefetch or working, per thread and activity',
    labelNames: ['thread', 'activity'] as const,
    registers: [this.registry],
    collect: this.collect,
  });

  readonly poolSlotsInUse = new Gauge({
    name: 'smi_pool_slots_in_use',
    help: 'Pool slots being written or held by readers, per channel',
    labelNames: ['channel'] as const,
    registers: [this.registry],
  });

  readonly poolEvents = new Counter({
    name: 'smi_pool_events_total',
    help: 'Pool ring events per channel: overwritten (latest readers skipped), torn_retry, reclaimed_slot, reclaimed_reader, too_large, backpressure, dead_writer',
    labelNames: ['channel', 'event'] as const,
    registers: [this.registry],
  });

  readonly poolSlots = new Gauge({
    name: 'smi_pool_slots',
    help: 'Pool slots per channel',
    labelNames: ['channel'] as const,
    registers: [this.registry],
  });

  readonly tracks = new Gauge({
    name: 'smi_tracks',
    help: 'Confirmed tracks in the latest published track list',
    registers: [this.registry],
    collect: this.collect,
  });

  readonly fusionCycles = new Counter({
    name: 'smi_fusion_cycles_total',
    help: 'Track lists published (after each fused measurement, or each burst of them)',
    registers: [this.registry],
    collect: this.collect,
  });

  readonly plans = new Counter({
    name: 'smi_plan_total',
    help: 'Plans published, per decision',
    labelNames: ['decision'] as const,
    registers: [this.registry],
    collect: this.collect,
  });

  readonly published = new Counter({
    name: 'smi_published_total',
    help: 'Messages published on the output socket, per topic',
    labelNames: ['topic'] as const,
    registers: [this.registry],
    collect: this.collect,
  });

  readonly ready = new Gauge({
    name: 'smi_ready',
    help: 'Ready: 1 once every source is connected (README, "Readiness"), else 0',
    registers: [this.registry],
  });

  readonly stageErrors = new Counter({
    name: 'smi_stage_errors_total',
    help: 'Errors raised by a pipeline stage (the pipeline goes on)',
    labelNames: ['stage'] as const,
    registers: [this.registry],
  });

  readonly splitRouted = new Gauge({
    name: 'smi_split_routed',
    help: 'TrafficSplit: output frames made by each version so far (README, "Traffic splits")',
    labelNames: ['split', 'version'] as const,
    registers: [this.registry],
  });

  readonly splitDivergence = new Gauge({
    name: 'smi_split_divergence',
    help: 'TrafficSplit divergence of the alternative from the primary: frames_differing, only_primary, only_other (tracks), position_rms_m, velocity_rms_mps, decisions_differing',
    labelNames: ['split', 'measure'] as const,
    registers: [this.registry],
  });

  readonly accessDenied = new Counter({
    name: 'smi_access_denied_total',
    help: 'Writes and reads a TrafficTarget refused, by channel, subject and op (write, read)',
    labelNames: ['channel', 'subject', 'op'] as const,
    registers: [this.registry],
  });

  readonly generation = new Gauge({
    name: 'smi_spec_generation',
    help: 'Spec generation the running pipeline was last reconciled to (observedGeneration)',
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'smi_process_' });
  }

  /**
   * Adds a function that brings metrics kept elsewhere (e.g. counters in shared memory written by
   * other threads) up to date; it runs whenever a metric is read. Must be cheap and idempotent.
   */
  addCollector(fn: () => void): void {
    this.collectors.push(fn);
  }

  /** Prometheus text exposition. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
