/**
 * Fuzz test of the ingest decoder: 100,000 hostile messages (random and structure-aware,
 * seeded), in slices of 10,000 so each stays CI-sized. For every slice: ingest never throws,
 * every message is accounted for exactly once (committed, rejected with a reason, or dropped),
 * every committed payload is finite and plausible, the committed measurements fused by a real
 * tracker leave every track finite, and when the slice ends every slot is back (free count full).
 * `SMI_FUZZ_SLICES` runs more slices (new seeds) for a longer local run.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { IngestStage } from './ingest-stage.js';
import { IngestCounterBlock } from './ingest-counters.js';
import { SlotPool, emptyDescriptor } from '../pool/slot-pool.js';
import { RateLimitedLog } from '../telemetry/reject-log-limiter.js';
import { DEFAULT_RIG, type SensorConfig } from '../wire/rig.js';
import { LAYOUTS, TRACK } from '../wire/layouts.js';
import { REJECT_REASONS } from '../wire/reject-reason.js';
import { checkPayload } from '../wire/payload-checks.js';
import { MultiSensorTracker } from '../fusion/multi-sensor-tracker.js';
import { fuseMeasurement } from '../fusion/measurement-dispatch.js';
import { Fuzz } from '../test-support/wire-fuzz.js';

const PER_SLICE = 10_000;
const SLICES = Math.max(10, Number(process.env.SMI_FUZZ_SLICES ?? 10));

const SENSORS: SensorConfig[] = [
  ...DEFAULT_RIG.filter((s) => s.kind !== 'lidar' || s.id === 'lidar_top'),
  { id: 'det', kind: 'objects', rateHz: 10, mount: { x: 0, y: 0, z: 0, yaw: 0 }, fovDeg: 360, rangeM: 100 },
];

function runSlice(seed: number) {
  const f = new Fuzz(seed);
  const pool = SlotPool.create(
    SENSORS.map((s) => ({
      name: s.id,
      slotCount: 8,
      slotBytes: s.kind === 'lidar' ? 4096 : 1024,
      readerCount: 1,
    })),
  );
  const counters = IngestCounterBlock.create(SENSORS.length);
  // Log lines per sensor and reason (or event): the limiter allows one a second per key.
  const logged = new Map<string, number>();
  const log = pino(
    { level: 'warn' },
    {
      write: (line: string) => {
        const l = JSON.parse(line) as { sensor?: string; reason?: string; event?: string };
        const key = `${l.sensor}/${l.reason ?? l.event}`;
        logged.set(key, (logged.get(key) ?? 0) + 1);
      },
    },
  );
  const started = Date.now();
  const ingest = new IngestStage(SENSORS, pool, { counters, latency: () => {} }, new RateLimitedLog(log), {
    maxFutureMs: 50,
    maxAgeMs: 2000,
  });
  const readers = SENSORS.map((_, i) => pool.reader(i));
  const tracker = new MultiSensorTracker(SENSORS);
  const d = emptyDescriptor();
  const outcomes = { committed: 0, rejected: 0, dropped: 0, forwarded: 0 };
  const problems: string[] = [];
  let now = 1_000_000_000_000n;
  let lastFused = 0n;
  let fused = 0;
  for (let n = 0; n < PER_SLICE; n++) {
    now += 1_000_000n; // 1 ms per message
    const parts = f.message(SENSORS, n + 1, now - BigInt(f.int(5_000_000)));
    let outcome;
    try {
      outcome = ingest.ingest(parts, now);
    } catch (err) {
      problems.push(`message ${n} threw: ${(err as Error).stack}`);
      continue;
    }
    outcomes[outcome]++;
    // Read what was committed, as a consumer stage would, now and then (so channels also fill up).
    if (f.chance(0.7)) {
      for (let i = 0; i < SENSORS.length; i++) {
        while (readers[i]!.next(d)) {
          const kind = SENSORS[i]!.kind;
          const layout = LAYOUTS[kind];
          const off = pool.slotOffset(i, d.slot);
          const f32 = new Float32Array(pool.sab, off, d.length >> 2);
          const f64 = new Float64Array(pool.sab, off, d.length >> 3);
          const values = layout.scalar === 'f32' ? f32 : f64;
          if (d.length % layout.stride !== 0) problems.push(`${kind}: committed ${d.length} bytes`);
          if (!values.every(Number.isFinite)) problems.push(`${kind}: non-finite value committed`);
          const bad = checkPayload(kind, values, d.length / layout.stride);
          if (bad) problems.push(`${kind}: implausible payload committed: ${bad.detail}`);
          // The tracker takes measurements in stamp order (the scheduler reorders; here: skip late ones).
          if (d.stampNs >= lastFused && kind !== 'lidar') {
            fuseMeasurement(tracker, kind, i, f32, f64, d.length, d.stampNs);
            lastFused = d.stampNs;
            fused++;
          }
          readers[i]!.release(d.slot);
        }
      }
    }
  }
  for (let i = 0; i < SENSORS.length; i++) {
    while (readers[i]!.next(d)) readers[i]!.release(d.slot);
  }
  ingest.close();
  const tracks = new Float32Array(64 * TRACK.stride);
  const published = tracker.writeTracks(lastFused, tracks);
  return {
    ingest,
    counters,
    pool,
    outcomes,
    problems,
    logged,
    seconds: (Date.now() - started) / 1000,
    fused,
    tracks: tracks.subarray(0, published * TRACK.stride),
  };
}

describe('ingest decoder fuzz (seeded, 10,000 messages per slice)', () => {
  const reasonsSeen = new Set<string>();
  let total = 0;

  it.each(Array.from({ length: SLICES }, (_, i) => 0x5eed + i))('slice with seed %i', (seed) => {
    const { ingest, counters, pool, outcomes, problems, logged, seconds, fused, tracks } = runSlice(seed);
    expect(problems.slice(0, 5)).toEqual([]);
    // Every message is accounted for exactly once.
    expect(outcomes.committed + outcomes.rejected + outcomes.dropped).toBe(PER_SLICE);
    let received = 0;
    for (let i = 0; i < SENSORS.length; i++) received += ingest.receivedOf(i);
    expect(received).toBe(outcomes.committed);
    expect(ingest.rejectedCount).toBe(outcomes.rejected);
    expect(ingest.droppedCount).toBe(outcomes.dropped);
    // Every rejection has a reason; the mix is wide (random and structure-aware inputs both land).
    const byReason = new Map<string, number>();
    for (let k = 0; k < counters.rejected.length; k++) {
      const v = counters.rejected[k]!;
      if (v > 0) {
        const r = REJECT_REASONS[k % REJECT_REASONS.length]!;
        byReason.set(r, (byReason.get(r) ?? 0) + v);
        reasonsSeen.add(r);
      }
    }
    expect([...byReason.values()].reduce((a, b) => a + b, 0)).toBe(outcomes.rejected);
    expect(byReason.size).toBeGreaterThan(10);
    expect(outcomes.committed).toBeGreaterThan(PER_SLICE / 20);
    // Logs stay rate-limited: at most about one line a second per sensor and reason.
    for (const [key, lines] of logged) expect(lines, key).toBeLessThanOrEqual(Math.ceil(seconds) + 2);
    expect([...logged.values()].reduce((a, b) => a + b, 0)).toBeLessThan(outcomes.rejected);
    // No slot leaked: every channel's free count is back to full.
    for (let i = 0; i < SENSORS.length; i++) expect(pool.slotsInUse(i), SENSORS[i]!.id).toBe(0);
    // Nothing non-finite reached the tracker's output (after it fused thousands of measurements).
    expect(fused).toBeGreaterThan(PER_SLICE / 50);
    expect(tracks.every(Number.isFinite)).toBe(true);
    total += PER_SLICE;
  });

  it('covered at least 100,000 messages and most rejection reasons', () => {
    expect(total).toBeGreaterThanOrEqual(100_000);
    for (const r of [
      'malformed_header',
      'bad_type',
      'implausible',
      'non_finite',
      'duplicate',
      'length_mismatch',
    ]) {
      expect(reasonsSeen, r).toContain(r);
    }
  });
});
