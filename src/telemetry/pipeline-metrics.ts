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

  readonly received = new Counter({
    name: 'smi_ingest_received_total',
    help: 'Sensor messages accepted into the pool, per sensor',
    labelNames: ['sensor', 'kind'] as const,
    registers: [this.registry],
  });

  readonly rejected = new Counter({
    name: 'smi_ingest_rejected_total',
    help: 'Sensor messages refused at ingest, per sensor and reason (see README: rejection reasons)',
    labelNames: ['sensor', 'reason'] as const,
    registers: [this.registry],
  });

  readonly poolDropped = new Counter({
    name: 'smi_pool_dropped_total',
    help: 'Valid messages dropped because their channel had no free slot',
    labelNames: ['channel'] as const,
    registers: [this.registry],
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
    help: 'handoff: a fusion cycle dispatched to the fusion worker holding its descriptors',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly syncLatency = new Histogram({
    name: 'smi_sync_latency_seconds',
    help: 'sync: measurement committed to fusion starting to use it (includes waiting for a trigger sensor)',
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
    help: 'e2e: stampNs of the measurement that triggered a plan to plan published',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
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
  });

  readonly fusionCycles = new Counter({
    name: 'smi_fusion_cycles_total',
    help: 'Fusion cycles run',
    registers: [this.registry],
  });

  readonly fusionCoalesced = new Counter({
    name: 'smi_fusion_cycles_coalesced_total',
    help: 'Fusion triggers merged into a later cycle because fusion was still busy',
    registers: [this.registry],
  });

  readonly fusionDroppedOutOfSequence = new Gauge({
    name: 'smi_fusion_out_of_sequence',
    help: 'Measurements the tracker dropped as older than its state (cumulative)',
    registers: [this.registry],
  });

  readonly plans = new Counter({
    name: 'smi_plan_total',
    help: 'Plans published, per decision',
    labelNames: ['decision'] as const,
    registers: [this.registry],
  });

  readonly published = new Counter({
    name: 'smi_published_total',
    help: 'Messages published on the output socket, per topic',
    labelNames: ['topic'] as const,
    registers: [this.registry],
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

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'smi_process_' });
  }

  /** Prometheus text exposition. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
