import { describe, expect, it } from 'vitest';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { McapWriter } from '@mcap/core';
import { parse } from '@foxglove/rosmsg';
import { MessageReader } from '@foxglove/rosmsg2-serialization';
import { DEFAULT_RIG } from '../wire/rig.js';
import { encodeHeader, sensorTopic } from '../wire/codec.js';
import { makeSensorHeader } from '../wire/header-validator.js';
import { GT } from '../wire/ground-truth.js';
import { fixtureDrive, memoryWritable, openIndexed, readAll, tempDir } from '../test-support/drives.js';
import { foxgloveProblems } from '../test-support/foxglove-check.js';
import { FOXGLOVE_TOPICS, META, TRUTH_TOPIC } from './drive-format.js';
import { FOXGLOVE_SCHEMAS } from './foxglove-messages.js';
import { DriveWriter } from './mcap-drive-writer.js';
import {
  LEGACY_WIRE_ENCODING,
  WIRE_SCHEMA,
  decodeWireMessage,
  encodeWireMessage,
} from './mcap-wire-message.js';
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

/** The problems of a drive with one raw channel of format 1. */
async function foxgloveCheckOfLegacy(): Promise<string[]> {
  const path = join(dir, 'legacy.mcap');
  const memory = memoryWritable();
  const writer = new McapWriter({ writable: memory.writable });
  await writer.start({ profile: 'smi-fusion', library: 'test' });
  const id = await writer.registerChannel({
    topic: 'sensor/ego/ego',
    schemaId: 0,
    messageEncoding: LEGACY_WIRE_ENCODING,
    metadata: new Map(),
  });
  await writer.addMessage({
    channelId: id,
    sequence: 0,
    logTime: 1n,
    publishTime: 1n,
    data: new Uint8Array(4),
  });
  await writer.end();
  writeFileSync(path, memory.bytes());
  return (await foxgloveProblems(path)).problems;
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
    const empty = decodeWireMessage(encodeWireMessage(header, new Uint8Array(0)));
    expect(empty.payload?.byteLength).toBe(0);
    expect(() => decodeWireMessage(new Uint8Array([0, 1, 0, 0, 200, 0, 0, 0, 1, 0, 0, 0, 0]))).toThrow(
      /says 200 header bytes/,
    );
    expect(() => decodeWireMessage(new Uint8Array(16))).toThrow(/CDR little-endian header/);
    // Format 1 (read only): u32 header length, bit 31 = no payload frame.
    const legacy = new Uint8Array([2, 0, 0, 0, 0x81, 0xa0, 9, 9]);
    expect([...decodeWireMessage(legacy, 1).payload!]).toEqual([9, 9]);
    expect(() => decodeWireMessage(new Uint8Array([200, 0, 0, 0, 1]), 1)).toThrow(/says 200 header bytes/);
  });

  it('is a CDR smi_fusion_msgs/msg/WireMessage that the ROS 2 reader Foxglove uses decodes to the same frames', () => {
    const reader = new MessageReader(parse(WIRE_SCHEMA.text, { ros2: true }));
    for (const headerBytes of [1, 2, 3, 4, 5, 60]) {
      const header = new Uint8Array(headerBytes).map((_, i) => i + 1);
      for (const payload of [undefined, new Uint8Array(0), new Uint8Array([7, 8, 9, 10, 11])]) {
        const stored = encodeWireMessage(header, payload);
        const msg = reader.readMessage<{ header: Uint8Array; has_payload: boolean; payload: Uint8Array }>(
          stored,
        );
        expect([...msg.header]).toEqual([...header]);
        expect(msg.has_payload).toBe(payload !== undefined);
        expect([...msg.payload]).toEqual([...(payload ?? [])]);
        expect(reader.lastReadHadTrailingBytes()).toBe(false);
        // The payload starts 4-byte aligned in the message.
        const frames = decodeWireMessage(stored);
        if (payload) expect(frames.payload!.byteOffset % 4).toBe(0);
      }
    }
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

  it('writes fixture drives whose every channel and message Foxglove decodes (no problems)', async () => {
    const path = await fixtureDrive('cut-in');
    const { problems, decoded } = await foxgloveProblems(path);
    expect(problems).toEqual([]);
    // 13 sensors and the ground truth on raw channels, 4 Foxglove views.
    expect(decoded.size).toBe(18);
    expect(decoded.get('sensor/lidar/lidar_top')).toBe(20);
    expect(decoded.get(`${FOXGLOVE_TOPICS.lidarPrefix}lidar_top`)).toBe(20);
    // A format-1 channel is what Foxglove listed as a problem.
    const legacy = await foxgloveCheckOfLegacy();
    expect(legacy).toEqual([
      "sensor/ego/ego: message encoding 'smi-fusion-wire/1' with schema encoding '' is not supported",
    ]);
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
