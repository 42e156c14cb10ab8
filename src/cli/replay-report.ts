/**
 * What `smi-fusion replay --report` prints at the end: messages per channel and their ingest
 * outcomes, outputs, latencies measured on this host (message handed to ingest → tracks/plan
 * published, so they mean the same at every speed), and, where the drive has ground truth,
 * tracking accuracy against it.
 */
import type { SplitReport } from '../workers/stage-thread-protocol.js';
import { decodeHeader } from '../wire/codec.js';
import { TRACK } from '../wire/layouts.js';
import { GT } from '../wire/ground-truth.js';
import { LatencyHistogram, formatNs } from '../telemetry/latency-histogram.js';
import type { IngestOutcome } from '../sensors/ingest-stage.js';
import type { DriveMessage } from '../io/mcap-drive-reader.js';
import type { ReplayResult } from '../sensors/replay-source.js';
import { TRUTH_DONTCARE_TOPIC, TRUTH_IGNORED_TOPIC, TRUTH_TOPIC } from '../io/drive-format.js';
import { kittiVisibility, type KittiExportGeometry } from '../io/kitti-export.js';
import { decodeWireMessage, wireChannelFormat } from '../io/mcap-wire-message.js';
import type { MatchRule } from '../metrics/mot-data.js';
import type { StampedDecision } from '../fleet/output-divergence.js';
import {
  formatScores,
  nearestIndex,
  scoreDrive,
  type DriveScores,
  type StampedRecords,
  type TrackVisibility,
} from './replay-scoring.js';

interface Outcomes {
  committed: number;
  rejected: number;
  dropped: number;
  /** Handed to the lidar thread, which ingests (and counts) them. */
  forwarded: number;
}

/** Ground-truth actors farther than this (m, base_link) are not expected to be tracked. */
const EVAL_RANGE_M = 80;
/** A track within this distance (m) of a true actor counts as tracking it. */
const MATCH_M = 3;
/** Bounds on what is kept for the accuracy evaluation. */
const MAX_SAMPLES = 200_000;
const STAMP_MEMORY = 8192;

export class ReplayReport {
  private readonly outcomes = new Map<string, Outcomes>();
  /** Stamp as sent → [host time offered, stamp on the drive's clock]. */
  private readonly offered = new Map<bigint, [bigint, bigint]>();
  readonly fusion = new LatencyHistogram();
  readonly e2e = new LatencyHistogram();
  tracks = 0;
  /** A TrafficSplit's routing and divergence, when the replay ran one (--split). */
  split: SplitReport | undefined;
  plans = 0;
  readonly decisions = new Map<string, number>();
  private readonly truth: StampedRecords[] = [];
  private readonly ignoredTruth: StampedRecords[] = [];
  private readonly dontCare: StampedRecords[] = [];
  /** Published track lists with the drive-clock stamp of the measurement they are valid at. */
  readonly trackLists: StampedRecords[] = [];
  /** Published plans' decisions, likewise stamped. */
  readonly planList: StampedDecision[] = [];

  /**
   * @param scoring how tracking scores match tracks to truth (CLEAR MOT, HOTA, sAMOTA), beyond
   *   which range true objects are not scored, and, for a drive imported from KITTI, its camera
   *   (tracks outside the image are not in the frame; small ones and DontCare are ignorable)
   */
  constructor(
    private readonly scoring: {
      match: MatchRule;
      rangeM: number;
      name: string;
      camera?: KittiExportGeometry;
    },
  ) {}

  /** ReplayOptions.onOffered */
  readonly onOffered = (
    topic: string,
    stampNs: bigint | undefined,
    offeredNs: bigint,
    outcome: IngestOutcome,
    driveStampNs?: bigint,
  ): void => {
    let o = this.outcomes.get(topic);
    if (!o) {
      o = { committed: 0, rejected: 0, dropped: 0, forwarded: 0 };
      this.outcomes.set(topic, o);
    }
    o[outcome]++;
    if (stampNs === undefined || (outcome !== 'committed' && outcome !== 'forwarded')) return;
    this.offered.set(stampNs, [offeredNs, driveStampNs ?? stampNs]);
    if (this.offered.size > STAMP_MEMORY) this.offered.delete(this.offered.keys().next().value!);
  };

  /** ServiceOptions.outputTap */
  readonly onOutput = (parts: readonly Uint8Array[]): void => {
    let h: Record<string, unknown>;
    try {
      h = decodeHeader(parts[1]!) as Record<string, unknown>;
    } catch {
      return;
    }
    const stamp = h.stampNs as bigint;
    const published = h.publishedNs as bigint;
    const seen = this.offered.get(stamp);
    if (h.kind === 'tracks') {
      this.tracks++;
      if (seen) {
        this.fusion.record(Number(published - seen[0]));
        if (this.trackLists.length < MAX_SAMPLES) {
          const p = parts[2] ?? new Uint8Array(0);
          this.trackLists.push({ stampNs: seen[1], values: new Float32Array(p.slice().buffer) });
        }
      }
    } else if (h.kind === 'plan') {
      this.plans++;
      const d = String(h.decision);
      this.decisions.set(d, (this.decisions.get(d) ?? 0) + 1);
      if (seen) {
        this.e2e.record(Number(published - seen[0]));
        if (this.planList.length < MAX_SAMPLES)
          this.planList.push({ stampNs: seen[1], decision: d, targetAccel: Number(h.targetAccel) });
      }
    }
  };

  /** ReplayOptions.onRecorded: keeps ground truth for the accuracy evaluation. */
  readonly onRecorded = (m: DriveMessage): void => {
    const topic = m.channel.topic;
    const list =
      topic === TRUTH_TOPIC
        ? this.truth
        : topic === TRUTH_IGNORED_TOPIC
          ? this.ignoredTruth
          : topic === TRUTH_DONTCARE_TOPIC
            ? this.dontCare
            : undefined;
    if (!list || list.length >= MAX_SAMPLES) return;
    try {
      const format = wireChannelFormat(m.channel.messageEncoding, m.channel.schemaName);
      if (!format) return;
      const { payload } = decodeWireMessage(m.data, format);
      if (!payload) return;
      list.push({ stampNs: m.publishTimeNs, values: new Float32Array(payload.slice().buffer) });
    } catch {
      // not a usable ground-truth sample
    }
  };

  /** CLEAR MOT, HOTA and sAMOTA against the drive's truth, or undefined when it has none. */
  scores(): DriveScores | undefined {
    if (this.truth.length === 0 || this.trackLists.length === 0) return undefined;
    const byStamp = (a: StampedRecords, b: StampedRecords): number =>
      a.stampNs < b.stampNs ? -1 : a.stampNs > b.stampNs ? 1 : 0;
    // The tracker publishes after every update, odometry included; of the lists valid at one
    // instant the last published holds every measurement of it, so it alone is the frame.
    const sorted = [...this.trackLists].sort(byStamp);
    const lists = sorted.filter((l, i) => sorted[i + 1]?.stampNs !== l.stampNs);
    const camera = this.scoring.camera;
    const regions = [...this.dontCare].sort(byStamp);
    const none = new Float32Array(0);
    const visibility: TrackVisibility | undefined = camera
      ? (box, stampNs) => {
          const i = nearestIndex(regions, stampNs);
          return kittiVisibility(
            camera,
            box,
            i >= 0 && regions[i]!.stampNs === stampNs ? regions[i]!.values : none,
          );
        }
      : undefined;
    return scoreDrive(
      this.scoring.name,
      lists,
      [...this.truth].sort(byStamp),
      [...this.ignoredTruth].sort(byStamp),
      this.scoring.match,
      this.scoring.rangeM,
      visibility,
    );
  }

  /** The report as a JSON-serialisable object (latencies in ns). */
  json(result: ReplayResult): object {
    const channels: Record<string, Outcomes & { offered: number }> = {};
    for (const [topic, o] of this.outcomes)
      channels[topic] = { offered: result.offered.get(topic) ?? 0, ...o };
    const lat = (h: LatencyHistogram) => ({
      count: h.count,
      p50: h.quantile(0.5),
      p99: h.quantile(0.99),
      max: h.max,
    });
    return {
      drive: this.scoring.name,
      messages: result.offeredTotal,
      driveSeconds: Number(result.playedNs) / 1e9,
      wallSeconds: Number(result.wallNs) / 1e9,
      channels,
      skipped: Object.fromEntries(result.skipped),
      outputs: { trackLists: this.tracks, plans: this.plans, decisions: Object.fromEntries(this.decisions) },
      latencyNs: { tracks: lat(this.fusion), plan: lat(this.e2e) },
      accuracy: this.accuracy() ?? null,
      scores: this.scores() ?? null,
      split: this.split ?? null,
    };
  }

  /** Tracking accuracy against ground truth, or undefined when the drive has none. */
  accuracy():
    | {
        frames: number;
        truthSeen: number;
        matched: number;
        posRmse: number;
        velRmse: number;
        falseTracks: number;
      }
    | undefined {
    if (this.truth.length === 0 || this.trackLists.length === 0) return undefined;
    const truth = [...this.truth].sort((a, b) =>
      a.stampNs < b.stampNs ? -1 : a.stampNs > b.stampNs ? 1 : 0,
    );
    let frames = 0;
    let truthSeen = 0;
    let matched = 0;
    let pos2 = 0;
    let vel2 = 0;
    let falseTracks = 0;
    for (const t of this.trackLists) {
      const gi = nearestIndex(truth, t.stampNs);
      const g = truth[gi];
      if (!g || absBig(g.stampNs - t.stampNs) > 20_000_000n) continue;
      frames++;
      const dt = Number(t.stampNs - g.stampNs) / 1e9;
      const used = new Uint8Array(t.values.length / TRACK.stride);
      for (let a = 0; a < g.values.length; a += GT.stride) {
        // Move the true box to the track list's time with its velocity (samples are 10 ms apart).
        const gx = g.values[a + GT.x]! + g.values[a + GT.vx]! * dt;
        const gy = g.values[a + GT.y]! + g.values[a + GT.vy]! * dt;
        if (Math.hypot(gx, gy) > EVAL_RANGE_M) continue;
        truthSeen++;
        let best = -1;
        let bestD = MATCH_M;
        for (let k = 0; k < used.length; k++) {
          if (used[k]) continue;
          const o = k * TRACK.stride;
          const d = Math.hypot(t.values[o + TRACK.x]! - gx, t.values[o + TRACK.y]! - gy);
          if (d < bestD) {
            bestD = d;
            best = k;
          }
        }
        if (best < 0) continue;
        used[best] = 1;
        matched++;
        const o = best * TRACK.stride;
        pos2 += bestD * bestD;
        vel2 +=
          (t.values[o + TRACK.vx]! - g.values[a + GT.vx]!) ** 2 +
          (t.values[o + TRACK.vy]! - g.values[a + GT.vy]!) ** 2;
      }
      for (const u of used) if (!u) falseTracks++;
    }
    if (frames === 0) return undefined;
    return {
      frames,
      truthSeen,
      matched,
      posRmse: matched ? Math.sqrt(pos2 / matched) : NaN,
      velRmse: matched ? Math.sqrt(vel2 / matched) : NaN,
      falseTracks: falseTracks / frames,
    };
  }

  /** The report as text. */
  format(result: ReplayResult): string {
    const lines: string[] = [];
    const driveS = Number(result.playedNs) / 1e9;
    const wallS = Number(result.wallNs) / 1e9;
    lines.push(
      `replayed ${result.offeredTotal} messages (${driveS.toFixed(2)} s of drive${result.loops ? `, ${result.loops + 1} passes` : ''}) in ${wallS.toFixed(2)} s: ` +
        `${wallS > 0 ? (result.offeredTotal / wallS).toFixed(0) : '-'} msg/s, ${wallS > 0 ? (driveS / wallS).toFixed(2) : '-'}x real time` +
        (result.stalls ? `, ${result.stalls} stalls re-anchored` : ''),
    );
    lines.push('', 'channel                         offered  committed  rejected  dropped');
    const topics = [...this.outcomes.keys()].sort();
    for (const topic of topics) {
      const o = this.outcomes.get(topic)!;
      lines.push(
        `${topic.padEnd(30)} ${String(result.offered.get(topic) ?? 0).padStart(8)} ${String(o.committed + o.forwarded).padStart(10)} ${String(o.rejected).padStart(9)} ${String(o.dropped).padStart(8)}`,
      );
    }
    if (result.skipped.size > 0) {
      lines.push('', 'skipped channels:');
      for (const [topic, why] of result.skipped) lines.push(`  ${topic}: ${why}`);
    }
    const decisions = [...this.decisions].map(([d, n]) => `${d} ${n}`).join(', ');
    lines.push(
      '',
      `outputs: ${this.tracks} track lists, ${this.plans} plans${decisions ? ` (${decisions})` : ''}`,
    );
    const row = (name: string, h: LatencyHistogram) =>
      `  ${name.padEnd(16)} n=${String(h.count).padEnd(6)} p50 ${formatNs(h.quantile(0.5)).padEnd(9)} p99 ${formatNs(h.quantile(0.99)).padEnd(9)} max ${formatNs(h.max)}`;
    lines.push('latency on this host (message handed to ingest → output published):');
    lines.push(row('tracks (fusion)', this.fusion), row('plan (e2e)', this.e2e));
    const acc = this.accuracy();
    if (acc) {
      lines.push(
        `tracking vs ground truth (actors within ${EVAL_RANGE_M} m, match within ${MATCH_M} m, ${acc.frames} track lists): ` +
          `${((100 * acc.matched) / Math.max(1, acc.truthSeen)).toFixed(1)}% of true actors tracked, ` +
          `position RMSE ${acc.posRmse.toFixed(2)} m, velocity RMSE ${acc.velRmse.toFixed(2)} m/s, ` +
          `${acc.falseTracks.toFixed(2)} unmatched tracks per list`,
      );
    }
    const scores = this.scores();
    if (scores) lines.push(...formatScores(scores));
    if (this.split) lines.push(...formatSplit(this.split));
    return lines.join('\n');
  }
}

function absBig(v: bigint): bigint {
  return v < 0n ? -v : v;
}

/** The divergence section: the alternative version against the primary, output frame by output frame. */
function formatSplit(r: SplitReport): string[] {
  const d = r.divergence;
  const [primary, other] = r.versions;
  const total = r.routed[0] + r.routed[1];
  const share = (n: number) => (total > 0 ? ((100 * n) / total).toFixed(1) : '0.0');
  const lines = [
    '',
    `TrafficSplit ${r.name} (${r.mode}): ${primary} made ${r.routed[0]} output frames (${share(r.routed[0])}%), ${other} ${r.routed[1]} (${share(r.routed[1])}%)`,
    `divergence of ${other} from ${primary} over ${d.frames} frames: ${d.framesDiffering} differ; ` +
      `${d.matchedTracks} track pairs matched, ${d.onlyPrimary} tracks only ${primary} had, ${d.onlyOther} only ${other}`,
    `  matched tracks: position mean ${d.position.mean.toFixed(3)} m, rms ${d.position.rms.toFixed(3)} m, max ${d.position.max.toFixed(3)} m; ` +
      `velocity mean ${d.velocity.mean.toFixed(3)} m/s, rms ${d.velocity.rms.toFixed(3)} m/s, max ${d.velocity.max.toFixed(3)} m/s`,
    `  plans: ${d.decisionsDiffering} of ${d.plans} decisions differ; target acceleration differs by ${d.targetAccel.mean.toFixed(3)} m/s² on average, ${d.targetAccel.max.toFixed(3)} at most`,
  ];
  for (const e of d.decisionExamples)
    lines.push(`    frame ${e.frame}: ${primary} ${e.primary}, ${other} ${e.other}`);
  return lines;
}
