/**
 * Feeds the Foxglove live view (io/foxglove-live-server.ts) from the service's taps: lidar and
 * odometry messages that ingest committed, the tracks and plans the service published, simulator
 * ground truth, and per-stage latencies from the pipeline's histograms. Best-effort: each call
 * looks at a message only when a viewer subscribed to what it would become, never blocks, and
 * swallows nothing silently (a message it cannot read is counted in `unreadable`).
 */
import type { Histogram } from 'prom-client';
import type { IngestOutcome } from '../sensors/ingest-stage.js';
import type { PipelineSpec } from '../smi/spec/pipeline-spec.js';
import type { PipelineMetrics } from '../telemetry/pipeline-metrics.js';
import type { Logger } from '../telemetry/logger.js';
import { decodeHeader, parseSensorTopic } from '../wire/codec.js';
import { FOXGLOVE_TOPICS, TRUTH_LAYOUT } from '../io/drive-format.js';
import { FoxgloveLiveServer, LIVE_TOPICS } from '../io/foxglove-live-server.js';
import { float32View } from '../io/foxglove-messages.js';

/** Mean per-stage latencies are recomputed this often from the histograms. */
const LATENCY_PERIOD_MS = 1000;

const utf8 = new TextDecoder();

type Header = Record<string, unknown> & { stampNs: bigint };
/** Stages whose latency the live view shows as a mean over the last second. */
type MeanStage = 'ingest' | 'handoff' | 'sync';

/** The header of a wire message with a usable stampNs, or undefined. */
function header(bytes: Uint8Array | undefined): Header | undefined {
  if (!bytes) return undefined;
  const h = decodeHeader(bytes) as Record<string, unknown> | null;
  if (typeof h !== 'object' || h === null) return undefined;
  const s = h.stampNs;
  const stampNs =
    typeof s === 'bigint' ? s : typeof s === 'number' && Number.isSafeInteger(s) ? BigInt(s) : -1n;
  return stampNs >= 0n ? { ...h, stampNs } : undefined;
}

const num = (v: unknown, fallback: number): number =>
  typeof v === 'number' && Number.isFinite(v) ? v : fallback;

export class FoxgloveFeed {
  /** Messages the feed could not read (a bad header on a tap); counted, never thrown. */
  unreadable = 0;
  private readonly means: Record<MeanStage, number> = { ingest: NaN, handoff: NaN, sync: NaN };
  private lastFusionMs = NaN;
  private readonly seen = new Map<Histogram<string>, { sum: number; count: number }>();
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    readonly server: FoxgloveLiveServer,
    private readonly metrics: PipelineMetrics,
  ) {}

  /** Starts the live view server of `spec.outputs.foxglove`. */
  static async start(spec: PipelineSpec, metrics: PipelineMetrics, log: Logger): Promise<FoxgloveFeed> {
    const o = spec.outputs.foxglove!;
    const server = await FoxgloveLiveServer.start({
      host: o.host,
      port: o.port,
      sendBufferBytes: o.sendBufferBytes,
      sensors: spec.sensors,
      log,
      registry: metrics.registry,
      name: `smi-fusion ${spec.name}`,
    });
    const feed = new FoxgloveFeed(server, metrics);
    feed.timer = setInterval(() => void feed.refreshMeans(), LATENCY_PERIOD_MS);
    feed.timer.unref();
    return feed;
  }

  /** ServiceOptions.inputTap's shape: lidar scans and odometry that ingest committed. */
  readonly onIngest = (parts: readonly Uint8Array[], outcome: IngestOutcome): void => {
    if (outcome !== 'committed' || parts.length !== 3 || !this.server.sensorViews) return;
    const t = parseSensorTopic(utf8.decode(parts[0]!));
    if (!t) return;
    const s = this.server;
    if (
      t.kind === 'lidar'
        ? !s.wantsPointCloud(t.sensorId)
        : t.kind !== 'ego' || !s.wants(FOXGLOVE_TOPICS.odometry)
    )
      return;
    const h = this.read(parts[1]);
    const payload = parts[2]!;
    if (!h) return;
    if (t.kind === 'lidar') {
      s.offerPointCloud(t.sensorId, h.stampNs, float32View(payload), payload.byteLength >> 4);
    } else if (payload.byteLength === 48) {
      const v = new DataView(payload.buffer, payload.byteOffset, 48);
      s.offerOdometry(h.stampNs, v.getFloat64(0, true), v.getFloat64(8, true), v.getFloat64(16, true));
    }
  };

  /** ServiceOptions.outputTap's shape: `out/tracks` and `out/plan` as published. */
  readonly onOutput = (parts: readonly Uint8Array[]): void => {
    if (!this.server.outputViews) return;
    const topic = utf8.decode(parts[0]!);
    const s = this.server;
    const tracks = topic === 'out/tracks';
    if (!(tracks ? s.wants(FOXGLOVE_TOPICS.tracks) : topic === 'out/plan' && this.wantsPlan())) return;
    const h = this.read(parts[1]);
    if (!h) return;
    const payload = parts[2] ?? new Uint8Array(0);
    if (tracks) {
      this.lastFusionMs = typeof h.publishedNs === 'bigint' ? Number(h.publishedNs - h.stampNs) / 1e6 : NaN;
      s.offerTracks({ stampNs: h.stampNs, count: num(h.count, 0) }, payload);
      return;
    }
    s.offerPlan(
      {
        stampNs: h.stampNs,
        seq: num(h.seq, -1),
        count: num(h.count, 0),
        decision: String(h.decision),
        leadId: num(h.leadId, -1),
        targetAccel: num(h.targetAccel, 0),
        ttc: num(h.ttc, -1),
      },
      payload,
    );
    s.offerLatencies(h.stampNs, {
      ...this.means,
      fusion: this.lastFusionMs,
      e2e: typeof h.publishedNs === 'bigint' ? Number(h.publishedNs - h.stampNs) / 1e6 : NaN,
    });
  };

  /** ServiceOptions.groundTruthTap's shape: `truth/actors` messages from a simulator source. */
  readonly onTruth = (parts: readonly Uint8Array[]): void => {
    if (!this.server.wants(FOXGLOVE_TOPICS.groundTruth) || parts.length !== 3) return;
    const h = this.read(parts[1]);
    if (!h) return;
    const payload = parts[2]!;
    const count = Math.min(num(h.count, 0), Math.floor(payload.byteLength / TRUTH_LAYOUT.stride));
    this.server.offerGroundTruth(h.stampNs, float32View(payload), count);
  };

  private wantsPlan(): boolean {
    const s = this.server;
    return s.wants(LIVE_TOPICS.plan) || s.wants(LIVE_TOPICS.planStatus) || s.wants(LIVE_TOPICS.latency);
  }

  private read(bytes: Uint8Array | undefined): Header | undefined {
    try {
      const h = header(bytes);
      if (!h) this.unreadable++;
      return h;
    } catch {
      this.unreadable++;
      return undefined;
    }
  }

  /** Mean ingest, handoff and sync latency over the last period, ms, from the histograms' sums and counts. */
  private async refreshMeans(): Promise<void> {
    const m = this.metrics;
    const pairs: [MeanStage, Histogram<string>][] = [
      ['ingest', m.ingestLatency as Histogram<string>],
      ['handoff', m.handoffLatency],
      ['sync', m.syncLatency],
    ];
    for (const [name, h] of pairs) {
      let sum = 0;
      let count = 0;
      for (const v of (await h.get()).values) {
        if (v.metricName?.endsWith('_sum')) sum += v.value;
        else if (v.metricName?.endsWith('_count')) count += v.value;
      }
      const last = this.seen.get(h) ?? { sum: 0, count: 0 };
      this.seen.set(h, { sum, count });
      this.means[name] = count > last.count ? ((sum - last.sum) / (count - last.count)) * 1000 : NaN;
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.server.close();
  }
}
