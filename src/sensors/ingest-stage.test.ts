import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { IngestStage } from './ingest-stage.js';
import { metricsIngestSink } from './ingest-counters.js';
import { SlotPool, emptyDescriptor } from '../pool/slot-pool.js';
import { PipelineMetrics } from '../telemetry/pipeline-metrics.js';
import { RateLimitedLog } from '../telemetry/reject-log-limiter.js';
import { DEFAULT_RIG } from '../wire/rig.js';
import { sensorFrame, radarTarget } from '../test-support/frames.js';
import { decodeHeader, encodeHeader } from '../wire/codec.js';

/** A header's fields, for re-encoding it with one field changed. */
const decodeFields = (b: Buffer): Record<string, unknown> => decodeHeader(b) as Record<string, unknown>;

function setup() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  const log = pino({ level: 'warn' }, sink);
  const sensors = DEFAULT_RIG;
  const pool = SlotPool.create(
    sensors.map((s) => ({ name: s.id, slotCount: 4, slotBytes: 4096, readerCount: 1 })),
  );
  const metrics = new PipelineMetrics();
  const ingest = new IngestStage(
    sensors,
    pool,
    metricsIngestSink(metrics, sensors),
    new RateLimitedLog(log),
    {
      maxFutureMs: 50,
      maxAgeMs: 2000,
    },
  );
  const commits: number[] = [];
  ingest.onCommit((i) => commits.push(i));
  const radar = sensors.findIndex((s) => s.id === 'radar_front');
  return { ingest, pool, metrics, lines, commits, radar };
}

async function rejectedCount(metrics: PipelineMetrics, sensor: string, reason: string): Promise<number> {
  const m = await metrics.rejected.get();
  return m.values.find((v) => v.labels.sensor === sensor && v.labels.reason === reason)?.value ?? 0;
}

describe('IngestStage', () => {
  it('rejects implausible object lists, radar and camera payloads with a reason, counts them, and goes on', async () => {
    const sensors = [
      ...DEFAULT_RIG.filter((s) => s.kind !== 'ego'),
      {
        id: 'det',
        kind: 'objects' as const,
        rateHz: 10,
        mount: { x: 0, y: 0, z: 0, yaw: 0 },
        fovDeg: 360,
        rangeM: 100,
      },
    ];
    const pool = SlotPool.create(
      sensors.map((s) => ({ name: s.id, slotCount: 4, slotBytes: 4096, readerCount: 1 })),
    );
    const metrics = new PipelineMetrics();
    const lines: Record<string, unknown>[] = [];
    const log = pino(
      { level: 'warn' },
      new Writable({
        write(chunk: Buffer, _e, cb) {
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          cb();
        },
      }),
    );
    const ingest = new IngestStage(
      sensors,
      pool,
      metricsIngestSink(metrics, sensors),
      new RateLimitedLog(log),
      {
        maxFutureMs: 50,
        maxAgeMs: 2000,
      },
    );
    const now = process.hrtime.bigint();
    const car = [20, 0, 0.7, 4.5, 1.8, 1.5, 0, 1, 0.9, 0, 0, 0, 0, 0, 0, 0];
    const far = [5000, 0, 0.7, 4.5, 1.8, 1.5, 0, 1, 0.9, 0, 0, 0, 0, 0, 0, 0];
    expect(ingest.ingest(sensorFrame('objects', 'det', 1, now - 3_000_000n, car), now)).toBe('committed');
    expect(ingest.ingest(sensorFrame('objects', 'det', 2, now - 2_000_000n, [...car, ...far]), now)).toBe(
      'rejected',
    );
    expect(ingest.ingest(sensorFrame('objects', 'det', 3, now - 1_000_000n, []), now)).toBe('committed');
    expect(ingest.ingest(sensorFrame('radar', 'radar_front', 1, now, [40, 0, -900, 10]), now)).toBe(
      'rejected',
    );
    expect(
      ingest.ingest(sensorFrame('camera', 'cam_front', 1, now, [1, 0.9, 500, 100, 20, 300, 0, 20]), now),
    ).toBe('rejected');
    expect(ingest.ingest(sensorFrame('objects', 'det', 4, now, car), now)).toBe('committed');
    expect(await rejectedCount(metrics, 'det', 'implausible')).toBe(1);
    expect(await rejectedCount(metrics, 'radar_front', 'implausible')).toBe(1);
    expect(await rejectedCount(metrics, 'cam_front', 'bad_box')).toBe(1);
    expect(ingest.rejectedCount).toBe(3);
    expect(lines.find((l) => l.reason === 'implausible' && l.sensor === 'det')?.detail).toBe(
      'object 1: x 5000 m is outside -1000..1000 m',
    );
    // Nothing of the refused messages reached the pool: the next good one is read intact.
    const reader = pool.reader(sensors.length - 1);
    const d = emptyDescriptor();
    const seen: number[] = [];
    while (reader.next(d)) {
      seen.push(d.length);
      reader.release(d.slot);
    }
    expect(seen).toEqual([64, 0, 64]);
  });

  it('commits a good frame into the pool, readable in place', () => {
    const { ingest, pool, commits, radar } = setup();
    const reader = pool.reader(radar);
    const now = process.hrtime.bigint();
    expect(ingest.ingest(sensorFrame('radar', 'radar_front', 1, now, radarTarget(42, 3)), now)).toBe(
      'committed',
    );
    expect(commits).toEqual([radar]);
    const d = emptyDescriptor();
    expect(reader.next(d)).toBe(true);
    expect(d.stampNs).toBe(now);
    expect(d.length).toBe(16);
    expect(Array.from(new Float32Array(pool.sab, pool.slotOffset(radar, d.slot), 4))).toEqual([
      42, 0, -3, 10,
    ]);
  });

  it('rejects every kind of bad input with a counted reason, and the next good frame still comes through', async () => {
    const { ingest, metrics, lines, commits } = setup();
    const now = process.hrtime.bigint();
    const good = (seq: number, stamp: bigint) =>
      sensorFrame('radar', 'radar_front', seq, stamp, radarTarget(40));
    expect(ingest.ingest(good(1, now - 1_000_000n), now)).toBe('committed');
    const [topic, header, payload] = good(2, now);
    const cases: [Buffer[], string, string][] = [
      [[topic!], 'unknown', 'bad_frame_count'],
      [[Buffer.from('sensor/sonar/s1'), header!, payload!], 'unknown', 'unknown_topic'],
      [[Buffer.from([0xff, 0xfe]), header!, payload!], 'unknown', 'unknown_topic'],
      [sensorFrame('radar', 'radar_ghost', 2, now, radarTarget(40)), 'unknown', 'unknown_sensor'],
      [[Buffer.from('sensor/lidar/radar_front'), header!, payload!], 'radar_front', 'topic_mismatch'],
      [[topic!, Buffer.from([0xc1, 0x00]), payload!], 'radar_front', 'malformed_header'],
      [[topic!, Buffer.from(encodeHeader({ v: 1 })), payload!], 'radar_front', 'missing_field'],
      [good(2, now).map((b, i) => (i === 2 ? b.subarray(0, 12) : b)), 'radar_front', 'length_mismatch'],
      [[topic!, header!], 'radar_front', 'length_mismatch'],
      [sensorFrame('radar', 'radar_front', 2, now, [NaN, 0, 0, 0]), 'radar_front', 'non_finite'],
      [sensorFrame('radar', 'radar_front', 2, now, [Infinity, 0, 0, 0]), 'radar_front', 'non_finite'],
      [good(2, now + 10_000_000_000n), 'radar_front', 'stamp_future'],
      [good(2, now - 10_000_000_000n), 'radar_front', 'stamp_stale'],
      [good(2, now - 2_000_000n), 'radar_front', 'stamp_backwards'],
      [good(1, now - 1_000_000n), 'radar_front', 'duplicate'],
      [sensorFrame('radar', 'radar_front', 2, now, new Array(4 * 300).fill(1)), 'radar_front', 'too_large'],
      [
        good(2, now).map((b, i) =>
          i === 1 ? Buffer.from(encodeHeader({ ...decodeFields(b), stride: 8 })) : b,
        ),
        'radar_front',
        'bad_layout',
      ],
      [
        good(2, now).map((b, i) =>
          i === 1 ? Buffer.from(encodeHeader({ ...decodeFields(b), seq: 'x' })) : b,
        ),
        'radar_front',
        'bad_type',
      ],
      [
        good(2, now).map((b, i) => (i === 1 ? Buffer.from(encodeHeader({ ...decodeFields(b), v: 9 })) : b)),
        'radar_front',
        'bad_version',
      ],
    ];
    for (const [parts, sensor, reason] of cases) {
      expect(ingest.ingest(parts, now), reason).toBe('rejected');
      expect(await rejectedCount(metrics, sensor, reason), reason).toBeGreaterThanOrEqual(1);
    }
    expect(ingest.rejectedCount).toBe(cases.length);
    expect(commits).toHaveLength(1);
    // Nothing was lost or corrupted: the next good frame is accepted.
    expect(ingest.ingest(good(2, now), now)).toBe('committed');
    expect(commits).toHaveLength(2);
    // Each reason is logged, with its detail, not once per message.
    const logged = lines.filter((l) => l.msg === 'ingest rejected a message');
    expect(new Set(logged.map((l) => l.reason)).size).toBe(new Set(cases.map((c) => c[2])).size);
    expect(logged.find((l) => l.reason === 'stamp_future')?.detail).toMatch(
      /ms ahead of now; at most 50\.0 ms allowed/,
    );
  });

  it('refuses an ego record that is finite but absurd, naming the field, and takes the next good one', async () => {
    const { ingest, metrics, lines, commits } = setup();
    const now = process.hrtime.bigint();
    expect(ingest.ingest(sensorFrame('ego', 'ego', 1, now - 2_000_000n, [0, 0, 0, 1e39, 0, 0]), now)).toBe(
      'rejected',
    );
    expect(await rejectedCount(metrics, 'ego', 'implausible')).toBe(1);
    expect(lines.find((l) => l.reason === 'implausible')?.detail).toBe(
      'record 0: speed 1.000e+39 m/s is outside -30..120 m/s',
    );
    expect(ingest.ingest(sensorFrame('ego', 'ego', 2, now, [0, 0, 0, 20, 0, 0]), now)).toBe('committed');
    expect(commits).toHaveLength(1);
  });

  it('never locks a sensor out: seq at 2^53-1, a driver restart, duplicates and a clock jump', async () => {
    const { ingest, metrics, lines, pool, radar } = setup();
    const t0 = process.hrtime.bigint();
    const ms = (n: number) => BigInt(n) * 1_000_000n;
    const frame = (seq: number, stamp: bigint) =>
      sensorFrame('radar', 'radar_front', seq, stamp, radarTarget(40));
    const reader = pool.reader(radar);
    const d = emptyDescriptor();
    const drain = () => {
      while (reader.next(d)) reader.release(d.slot);
    };
    const events = async (event: string) =>
      (await metrics.sensorEvents.get()).values.find(
        (v) => v.labels.sensor === 'radar_front' && v.labels.event === event,
      )?.value ?? 0;
    const now = t0 + ms(200);
    // The largest seq there is, then the driver restarts and counts from 0 again: both accepted.
    expect(ingest.ingest(frame(Number.MAX_SAFE_INTEGER, now - ms(100)), now)).toBe('committed');
    expect(ingest.ingest(frame(0, now - ms(90)), now)).toBe('committed');
    expect(ingest.ingest(frame(1, now - ms(80)), now)).toBe('committed');
    drain();
    expect(await events('restart')).toBe(1);
    expect(lines.some((l) => l.event === 'restart' && l.sensor === 'radar_front')).toBe(true);
    // A repeat of the last message, and a replay of an older one: refused as duplicates.
    expect(ingest.ingest(frame(1, now - ms(80)), now)).toBe('rejected');
    expect(ingest.ingest(frame(0, now - ms(90)), now)).toBe('rejected');
    expect(await rejectedCount(metrics, 'radar_front', 'duplicate')).toBe(2);
    // The clock jumps back 50 ms while seq goes on: refused twice, then followed.
    expect(ingest.ingest(frame(2, now - ms(130)), now)).toBe('rejected');
    expect(ingest.ingest(frame(3, now - ms(125)), now)).toBe('rejected');
    expect(ingest.ingest(frame(4, now - ms(120)), now)).toBe('committed');
    expect(ingest.ingest(frame(5, now - ms(115)), now)).toBe('committed');
    expect(await rejectedCount(metrics, 'radar_front', 'stamp_backwards')).toBe(2);
    expect(await events('clock_jump')).toBe(1);
    drain();
    // Each refusal and acceptance is accounted for: 5 + 2 committed (after drain), 4 rejected.
    expect(ingest.receivedOf(radar)).toBe(5);
    expect(ingest.rejectedCount).toBe(4);
    expect(pool.slotsInUse(radar)).toBeLessThanOrEqual(1); // at most the slot loaned ahead
  });

  it('logs a repeated rejection once per second per reason, counting every one', async () => {
    const { ingest, metrics, lines } = setup();
    const now = process.hrtime.bigint();
    for (let i = 0; i < 500; i++) ingest.ingest([Buffer.from('bogus'), Buffer.alloc(1)], now);
    expect(await rejectedCount(metrics, 'unknown', 'unknown_topic')).toBe(500);
    expect(lines.filter((l) => l.reason === 'unknown_topic')).toHaveLength(1);
  });

  it('drops and counts a valid frame when its channel has no free slot', async () => {
    const { ingest, metrics, pool, radar } = setup();
    const now = process.hrtime.bigint();
    for (let seq = 1; seq <= 4; seq++) {
      expect(
        ingest.ingest(sensorFrame('radar', 'radar_front', seq, now - BigInt(10 - seq), radarTarget(40)), now),
      ).toBe('committed');
    }
    expect(ingest.ingest(sensorFrame('radar', 'radar_front', 5, now, radarTarget(40)), now)).toBe('dropped');
    expect((await metrics.poolDropped.get()).values[0]?.value).toBe(1);
    expect(pool.slotsInUse(radar)).toBe(4);
  });
});
