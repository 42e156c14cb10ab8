import { describe, expect, it } from 'vitest';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@foxglove/rosmsg';
import { MessageReader } from '@foxglove/rosmsg2-serialization';
import { DEFAULT_RIG } from '../wire/rig.js';
import { encodeHeader, sensorTopic } from '../wire/codec.js';
import { makeSensorHeader } from '../wire/header-validator.js';
import { GT } from '../wire/ground-truth.js';
import { openIndexed, readAll, tempDir } from '../test-support/drives.js';
import { FOXGLOVE_TOPICS, META, TRUTH_TOPIC } from './drive-format.js';
import { FOXGLOVE_SCHEMAS } from './foxglove-messages.js';
import { DriveWriter } from './mcap-drive-writer.js';
import { decodeWireMessage, encodeWireMessage } from './mcap-wire-message.js';
import { RecordRing } from './record-ring.js';
import type { DriveMessage } from './mcap-drive-reader.js';

const dir = tempDir('mcap');

/** A lidar payload of `n` points with values that do not compress away. */
function lidarPoints(n: number, seed: number): Uint8Array {
  const f = new Float32Array(n * 4);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < f.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    f[i] = (s / 2 ** 32) * 50 - 25;
  }
  return new Uint8Array(f.buffer);
}

function wire(
  kind: 'lidar' | 'ego' | 'radar',
  id: string,
  seq: number,
  stampNs: bigint,
  payload: Uint8Array,
  stride: number,
) {
  const header = encodeHeader(makeSensorHeader(kind, id, seq, stampNs, payload.byteLength / stride));
  return { topic: sensorTopic(kind, id), header, payload, data: encodeWireMessage(header, payload) };
}

/** Writes a small drive: `scans` lidar scans of 20k points, ego and ground truth between them. */
async function writeDrive(path: string, scans: number, chunkBytes = 256 * 1024) {
  const writer = await DriveWriter.create(
    path,
    { sensors: DEFAULT_RIG, chunkBytes },
    { [META.drive]: { formatVersion: '1', startNs: '1000000000' } },
  );
  const sent: { topic: string; data: Uint8Array }[] = [];
  for (let i = 0; i < scans; i++) {
    const t = 1_000_000_000n + BigInt(i) * 100_000_000n;
    const lidar = wire('lidar', 'lidar_top', i, t, lidarPoints(20_000, i + 1), 16);
    const ego = new Float64Array([i * 2.5, 0.1, 0.01, 25, 0, 0]);
    const egoMsg = wire('ego', 'ego', i, t + 1_000_000n, new Uint8Array(ego.buffer), 48);
    const truth = new Float32Array(2 * GT.stride).fill(1);
    const th = encodeHeader({ v: 1, kind: 'truth', seq: i, stampNs: t, frame: 'base_link', count: 2 });
    for (const m of [
      lidar,
      egoMsg,
      { topic: TRUTH_TOPIC, data: encodeWireMessage(th, new Uint8Array(truth.buffer)) },
    ]) {
      await writer.addWire(m.topic, m.data, t + 2_000_000n);
      sent.push(m);
    }
  }
  const stats = await writer.end({ note: 'test' });
  return { sent, stats };
}

const raw = (records: Awaited<ReturnType<typeof readAll>>['records']): DriveMessage[] =>
  records.flatMap((r) =>
    r.type === 'message' && !r.message.channel.topic.startsWith('/foxglove/') ? [r.message] : [],
  );

describe('stored wire messages', () => {
  it('round-trip header and payload, and keep a missing payload frame missing', () => {
    const header = encodeHeader({ v: 1, kind: 'radar' });
    const payload = new Uint8Array([1, 2, 3, 4]);
    const back = decodeWireMessage(encodeWireMessage(header, payload));
    expect(Buffer.compare(back.header, header)).toBe(0);
    expect([...back.payload!]).toEqual([1, 2, 3, 4]);
    const noPayload = decodeWireMessage(encodeWireMessage(header, undefined));
    expect(noPayload.payload).toBeUndefined();
    expect(() => decodeWireMessage(new Uint8Array([200, 0, 0, 0, 1]))).toThrow(/says 200 header bytes/);
  });
});

describe('RecordRing', () => {
  it('hands records over in order across many wrap-arounds and refuses when full', () => {
    const ring = RecordRing.create(64 * 1024);
    const header = new Uint8Array(40).fill(7);
    let pushed = 0;
    let taken = 0;
    for (let round = 0; round < 2000; round++) {
      const size = (round * 7919) % 9000;
      const payload = new Uint8Array(size).fill(round & 0xff);
      if (ring.push(`sensor/radar/r${round % 3}`, BigInt(round), header, payload)) pushed++;
      // Consume every other round so the ring runs full at times.
      if (round % 2 === 1) {
        for (let rec = ring.next(); rec; rec = ring.next()) {
          const { payload: p } = decodeWireMessage(rec.data);
          expect(Number(rec.logTimeNs) % 3).toBe(Number(rec.topic.at(-1)));
          expect(p!.every((b) => b === (Number(rec.logTimeNs) & 0xff))).toBe(true);
          ring.release();
          taken++;
        }
      }
    }
    for (let rec = ring.next(); rec; rec = ring.next()) {
      ring.release();
      taken++;
    }
    expect(taken).toBe(pushed);
    expect(pushed).toBeGreaterThan(1000);
    expect(ring.usedBytes).toBe(0);
    // Full: nothing is written and the caller is told.
    const big = new Uint8Array(20_000);
    let accepted = 0;
    while (ring.push('sensor/lidar/l', 1n, header, big) && accepted < 100) accepted++;
    expect(accepted).toBe(3);
    expect(ring.push('sensor/lidar/l', 1n, header, new Uint8Array(40_000))).toBe(false); // above half the ring
  });
});

describe('DriveWriter and DriveReader', () => {
  it('write an indexed drive whose raw channels read back byte for byte, with Foxglove channels beside them', async () => {
    const path = join(dir, 'small.mcap');
    const { sent, stats } = await writeDrive(path, 6);
    expect(stats.chunks).toBeGreaterThan(2);
    const { records, result } = await readAll(path);
    expect(result.complete).toBe(true);
    const got = raw(records);
    expect(got.map((m) => m.channel.topic)).toEqual(sent.map((m) => m.topic));
    got.forEach((m, i) => expect(Buffer.compare(m.data, sent[i]!.data)).toBe(0));
    const meta = records.filter((r) => r.type === 'metadata');
    expect(meta.map((r) => r.name)).toEqual([META.drive, META.summary]);

    const indexed = await openIndexed(path);
    const topics = [...indexed.channelsById.values()].map((c) => c.topic).sort();
    expect(topics).toEqual(
      [
        'sensor/ego/ego',
        'sensor/lidar/lidar_top',
        TRUTH_TOPIC,
        FOXGLOVE_TOPICS.calibration,
        FOXGLOVE_TOPICS.groundTruth,
        FOXGLOVE_TOPICS.odometry,
        `${FOXGLOVE_TOPICS.lidarPrefix}lidar_top`,
      ].sort(),
    );
    expect(indexed.statistics?.messageCount).toBe(BigInt(records.filter((r) => r.type === 'message').length));
  });

  it('writes point clouds that Foxglove decodes: CDR foxglove_msgs/msg/PointCloud over the raw lidar bytes', async () => {
    const path = join(dir, 'cloud.mcap');
    const { sent } = await writeDrive(path, 1);
    const { records } = await readAll(path);
    const cloud = records.find(
      (r) => r.type === 'message' && r.message.channel.topic === `${FOXGLOVE_TOPICS.lidarPrefix}lidar_top`,
    );
    if (cloud?.type !== 'message') throw new Error('no point cloud');
    expect(cloud.message.channel.schemaName).toBe('foxglove_msgs/msg/PointCloud');
    const reader = new MessageReader(
      parse(new TextDecoder().decode(FOXGLOVE_SCHEMAS.pointCloud.data), { ros2: true }),
    );
    const pc = reader.readMessage<{
      timestamp: { sec: number; nanosec: number };
      frame_id: string;
      pose: { orientation: { w: number } };
      point_stride: number;
      fields: { name: string; offset: number; type: number }[];
      data: Uint8Array;
    }>(cloud.message.data);
    expect(pc.timestamp).toEqual({ sec: 1, nanosec: 0 });
    expect(pc.frame_id).toBe('lidar_top');
    expect(pc.pose.orientation.w).toBe(1);
    expect(pc.point_stride).toBe(16);
    expect(pc.fields).toEqual([
      { name: 'x', offset: 0, type: 7 },
      { name: 'y', offset: 4, type: 7 },
      { name: 'z', offset: 8, type: 7 },
      { name: 'intensity', offset: 12, type: 7 },
    ]);
    expect(Buffer.compare(pc.data, decodeWireMessage(sent[0]!.data).payload!)).toBe(0);
    expect(reader.lastReadHadTrailingBytes()).toBe(false);
    const scene = records.find(
      (r) => r.type === 'message' && r.message.channel.topic === FOXGLOVE_TOPICS.groundTruth,
    );
    if (scene?.type !== 'message') throw new Error('no scene');
    const update = JSON.parse(new TextDecoder().decode(scene.message.data));
    expect(update.entities[0].cubes).toHaveLength(2);
    expect(update.entities[0].frame_id).toBe('base_link');
  });

  it('refuses a call that overlaps the previous one instead of corrupting the file', async () => {
    const writer = await DriveWriter.create(join(dir, 'overlap.mcap'), { sensors: DEFAULT_RIG }, {});
    const m = wire('ego', 'ego', 0, 1n, new Uint8Array(48), 48);
    const first = writer.addWire(m.topic, m.data, 1n);
    await expect(writer.addWire(m.topic, m.data, 2n)).rejects.toThrow(/overlapped/);
    await first;
    await writer.end();
  });

  it('reads a drive cut in half up to its last whole record and says where it stopped', async () => {
    const path = join(dir, 'whole.mcap');
    const { sent } = await writeDrive(path, 8);
    const bytes = readFileSync(path);
    const half = join(dir, 'half.mcap');
    writeFileSync(half, bytes.subarray(0, bytes.byteLength >> 1));
    const { records, result } = await readAll(half);
    expect(result.complete).toBe(false);
    expect(result.reason).toMatch(/the file ends inside a record at byte \d+ .*no footer/);
    expect(result.stoppedAtByte).toBeLessThanOrEqual(bytes.byteLength >> 1);
    const got = raw(records);
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(sent.length);
    got.forEach((m, i) => expect(Buffer.compare(m.data, sent[i]!.data)).toBe(0));
    await expect(openIndexed(half)).rejects.toThrow();
  });

  it('stops at a chunk with flipped bytes, naming the chunk and the reason', async () => {
    const path = join(dir, 'flip.mcap');
    const { sent } = await writeDrive(path, 8);
    const indexed = await openIndexed(path);
    const chunk = indexed.chunkIndexes[2]!;
    const bytes = Buffer.from(readFileSync(path));
    const at = Number(chunk.chunkStartOffset + chunk.chunkLength / 2n);
    for (let i = 0; i < 16; i++) bytes[at + i] = bytes[at + i]! ^ 0x5a;
    const flipped = join(dir, 'flipped.mcap');
    writeFileSync(flipped, bytes);
    const { records, result } = await readAll(flipped);
    expect(result.complete).toBe(false);
    expect(result.stoppedAtByte).toBe(Number(chunk.chunkStartOffset));
    expect(result.reason).toMatch(/unreadable record at byte \d+: .*(CRC|ecompress|zstd)/i);
    const got = raw(records);
    expect(got.length).toBeGreaterThan(0);
    got.forEach((m, i) => expect(Buffer.compare(m.data, sent[i]!.data)).toBe(0));
    expect(statSync(flipped).size).toBe(statSync(path).size);
  });
});
