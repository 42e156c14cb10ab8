import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readAll, tempDir } from '../test-support/drives.js';
import { foxgloveProblems } from '../test-support/foxglove-check.js';
import {
  Ros2BagWriter,
  cloudMessage,
  field,
  odometryMessage,
  tfMessage,
  time,
} from '../test-support/ros2-bag.js';
import { decodeHeader } from '../wire/codec.js';
import { META } from './drive-format.js';
import { pipelineFromDrive } from './drive-metadata.js';
import { decodeWireMessage } from './mcap-wire-message.js';
import { parseRos2Mapping } from './ros2-mapping.js';
import { importRos2Bag } from './ros2-bag-import.js';
import { convertPointCloud2 } from './ros2-pointcloud.js';
import { classOfLabel, convertDetection3DArray } from './ros2-detections.js';

const dir = tempDir('ros2');
const T0 = 1_700_000_000_000_000_000n; // bags carry wall-clock stamps

const MAPPING = `apiVersion: smi-fusion.dev/v1alpha1
kind: Ros2Import
metadata: { name: test-bag }
spec:
  topics:
    - { topic: /points, sensor: lidar_top, kind: lidar }
    - { topic: /odom, sensor: ego, kind: ego }
    - { topic: /detections, sensor: detector, kind: objects }
`;

const yawQ = (yaw: number) => ({ x: 0, y: 0, z: Math.sin(yaw / 2), w: Math.cos(yaw / 2) });

/** Detection3D of `label` (best of two hypotheses) at (x, y, z), yaw, size 4.5 × 1.9 × 1.6. */
function detection(label: string, score: number, x: number, y: number, yaw: number, variance = 0) {
  const covariance = new Array<number>(36).fill(0);
  covariance[0] = variance;
  covariance[7] = variance / 2;
  covariance[35] = variance / 10;
  const pose = { position: { x, y, z: 0.8 }, orientation: yawQ(yaw) };
  return {
    header: { stamp: time(0n), frame_id: '' },
    results: [
      { hypothesis: { class_id: 'unknown', score: score / 4 }, pose: { pose, covariance } },
      { hypothesis: { class_id: label, score }, pose: { pose, covariance } },
    ],
    bbox: { center: pose, size: { x: 4.5, y: 1.9, z: 1.6 } },
    id: '',
  };
}

/** Frame k's detections in the frame `roof`: a car moving ahead, a pedestrian, an unknown label. */
const detections = (k: number) => [
  detection('car', 0.9, 15 + k, 2, 0.3, 0.25),
  detection('human.pedestrian.adult', 0.6, 8, -3, 0),
  detection('traffic_cone', 0.5, 5, 1, 0),
];

/** A 1 s bag: 10 organised clouds (2 rows, NaN holes), 100 odometry, static tf, detections, an image-like topic. */
async function writeBag(path: string, opts: { noZ?: number } = {}) {
  const bag = new Ros2BagWriter();
  await bag.topic('/tf_static', 'tf2_msgs/msg/TFMessage');
  await bag.topic('/points', 'sensor_msgs/msg/PointCloud2');
  await bag.topic('/odom', 'nav_msgs/msg/Odometry');
  await bag.topic('/detections', 'vision_msgs/msg/Detection3DArray');
  await bag.topic('/chatter', 'std_msgs/msg/String');
  await bag.add('/tf_static', tfMessage(T0, 'base_link', 'roof', [1, 0, 1.5], yawQ(0)), T0);
  await bag.add('/tf_static', tfMessage(T0, 'roof', 'velodyne', [0.25, 0.1, 0.3], yawQ(Math.PI / 2)), T0);
  for (let i = 0; i < 100; i++) {
    const t = T0 + BigInt(i) * 10_000_000n;
    await bag.add('/odom', odometryMessage(t, i * 0.2, 0, 0.01 * i, 20 + i * 0.01, 0.01), t + 1_000_000n);
    if (i % 10 === 0) {
      const k = i / 10;
      const pts = [
        [10 + k, 1, 0.5, 255],
        [NaN, NaN, NaN, 0],
        [20, -2, 1, 51],
        [5, 5, 0, 0],
      ];
      const cloud = cloudMessage(t, 'velodyne', pts, 2);
      if (opts.noZ !== undefined && k === opts.noZ) cloud.fields = cloud.fields.filter((f) => f.name !== 'z');
      await bag.add('/points', cloud, t + 5_000_000n);
      await bag.add(
        '/detections',
        { header: { stamp: time(t), frame_id: 'roof' }, detections: k === 0 ? [] : detections(k) },
        t + 5_000_000n,
      );
      await bag.add('/chatter', { data: `hello ${k}` }, t + 5_000_000n);
    }
  }
  return bag.save(path);
}

describe('import of a ROS 2 bag', () => {
  it('converts PointCloud2 to lidar, Odometry to ego and /tf_static to mounts; lists the rest once', async () => {
    const bagPath = join(dir, 'good.mcap');
    await writeBag(bagPath);
    const out = join(dir, 'good.smi.mcap');
    const r = await importRos2Bag({ bag: bagPath, out, mapping: parseRos2Mapping(MAPPING, 'map.yaml') });
    expect(r.read.complete).toBe(true);
    expect(r.missing).toEqual([]);
    const by = (topic: string) => r.topics.find((t) => t.topic === topic)!;
    expect(by('/points')).toMatchObject({ converted: 10, messages: 10 });
    expect(by('/odom')).toMatchObject({ converted: 100, messages: 100 });
    expect(by('/detections')).toMatchObject({ converted: 10, messages: 10 });
    expect([...by('/detections').unknownLabels]).toEqual([['traffic_cone', 9]]);
    expect(by('/chatter').whyNot).toBe('not in the mapping');
    // base_link → roof → velodyne: (1, 0, 1.5) + (0.25, 0.1, 0.3), yaw 90°.
    const mount = r.mounts[0]!;
    expect(mount).toMatchObject({ sensor: 'lidar_top', frame: 'velodyne', found: true, levelled: false });
    expect(mount.mount.x).toBeCloseTo(1.25, 9);
    expect(mount.mount.y).toBeCloseTo(0.1, 9);
    expect(mount.mount.z).toBeCloseTo(1.8, 9);
    expect(mount.mount.yaw).toBeCloseTo(Math.PI / 2, 9);
    expect(r.outsideStampWindow).toBe(0);

    const { records, result } = await readAll(out);
    expect(result.complete).toBe(true);
    const meta = Object.fromEntries(
      records.flatMap((x) => (x.type === 'metadata' ? [[x.name, x.entries]] : [])),
    );
    const spec = pipelineFromDrive(meta, out);
    expect(spec.sensors.map((s) => [s.id, s.kind, s.rateHz])).toEqual([
      ['lidar_top', 'lidar', 10],
      ['ego', 'ego', 100],
      ['detector', 'objects', 10],
    ]);
    expect(spec.sensors[0]!.mount.yaw).toBeCloseTo(Math.PI / 2, 9);
    // The detections' frame is `roof`: mounted 1.5 m up, not turned.
    expect(spec.sensors[2]!.mount).toMatchObject({ x: 1, y: 0, z: 1.5, yaw: 0 });
    const objects = records.flatMap((x) =>
      x.type === 'message' && x.message.channel.topic === 'sensor/objects/detector' ? [x.message] : [],
    );
    expect(objects).toHaveLength(10);
    expect((decodeHeader(decodeWireMessage(objects[0]!.data).header) as { count: number }).count).toBe(0);
    const list = decodeWireMessage(objects[2]!.data);
    expect((decodeHeader(list.header) as { count: number }).count).toBe(3);
    const o = new Float32Array(list.payload!.slice().buffer);
    // x y z length width height yaw classId score vx vy varX covXY varY varYaw varV
    const f = Math.fround;
    expect([...o.subarray(0, 16)]).toEqual(
      [17, 2, 0.8, 4.5, 1.9, 1.6, 0.3, 1, 0.9, 0, 0, 0.25, 0, 0.125, 0.025, 0].map(f),
    );
    // nuScenes-style label → pedestrian; no covariance given → zeros (the detector noise model applies).
    expect([...o.subarray(16, 32)]).toEqual(
      [8, -3, 0.8, 4.5, 1.9, 1.6, 0, 3, 0.6, 0, 0, 0, 0, 0, 0, 0].map(f),
    );
    expect([o[32 + 7], o[32 + 8]]).toEqual([0, 0.5]);
    expect(meta[META.import]!.format).toBe('ros2');
    const lidar = records.flatMap((x) =>
      x.type === 'message' && x.message.channel.topic === 'sensor/lidar/lidar_top' ? [x.message] : [],
    );
    expect(lidar).toHaveLength(10);
    const first = decodeWireMessage(lidar[0]!.data);
    const h = decodeHeader(first.header) as { stampNs: bigint; count: number; seq: number; frame: string };
    expect(h).toMatchObject({ stampNs: T0, count: 3, seq: 0, frame: 'lidar_top' });
    const pts = new Float32Array(first.payload!.slice().buffer);
    // NaN hole left out; uint8 intensity scaled to 0..1.
    expect([...pts]).toEqual([10, 1, 0.5, 1, 20, -2, 1, 51 / 255, 5, 5, 0, 0].map((v) => Math.fround(v)));
    const ego = records.find((x) => x.type === 'message' && x.message.channel.topic === 'sensor/ego/ego');
    if (ego?.type !== 'message') throw new Error('no ego');
    const e = new Float64Array(decodeWireMessage(ego.message.data).payload!.slice().buffer);
    expect([e[0], e[1], e[3], e[4], e[5]]).toEqual([0, 0, 20, 0.01, 0]);
    // Opens in Foxglove without problems.
    expect((await foxgloveProblems(out)).problems).toEqual([]);
  });

  it('counts a PointCloud2 without z with its reason and converts the rest', async () => {
    const bagPath = join(dir, 'noz.mcap');
    await writeBag(bagPath, { noZ: 3 });
    const r = await importRos2Bag({
      bag: bagPath,
      out: join(dir, 'noz.smi.mcap'),
      mapping: parseRos2Mapping(MAPPING, 'map.yaml'),
    });
    const points = r.topics.find((t) => t.topic === '/points')!;
    expect(points.converted).toBe(9);
    expect([...points.skipped]).toEqual([
      ["PointCloud2 has no field 'z' (fields: x, y, intensity); x, y and z are needed", 1],
    ]);
  });

  it('reads a truncated bag up to its last whole record and says where it stopped', async () => {
    const bagPath = join(dir, 'whole.mcap');
    const bytes = await writeBag(bagPath);
    const cut = join(dir, 'cut.mcap');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.byteLength * 0.6)));
    const r = await importRos2Bag({
      bag: cut,
      out: join(dir, 'cut.smi.mcap'),
      mapping: parseRos2Mapping(MAPPING, 'map.yaml'),
    });
    expect(r.read.complete).toBe(false);
    expect(r.read.stoppedAtByte).toBeLessThanOrEqual(Math.floor(bytes.byteLength * 0.6));
    expect(r.read.reason).toMatch(/no footer|ends inside a record/);
    const odom = r.topics.find((t) => t.topic === '/odom')!;
    expect(odom.converted).toBeGreaterThan(10);
    expect(odom.converted).toBeLessThan(100);
    const { records, result } = await readAll(join(dir, 'cut.smi.mcap'));
    expect(result.complete).toBe(true); // the partial drive itself is whole
    const summary = records.find((x) => x.type === 'metadata' && x.name === META.summary);
    expect(summary?.type === 'metadata' && summary.entries.bagComplete).toBe('false');
  });

  it('refuses a mapped topic of another encoding or type, and names mapped topics the bag lacks', async () => {
    const bag = new Ros2BagWriter();
    await bag.topic('/points', 'sensor_msgs/msg/PointCloud2', 'json', 'jsonschema');
    await bag.topic('/odom', 'std_msgs/msg/String');
    await bag.add('/points', new TextEncoder().encode('{}'), T0);
    await bag.add('/odom', { data: 'x' }, T0);
    const bagPath = join(dir, 'bad.mcap');
    await bag.save(bagPath);
    const mapping = parseRos2Mapping(MAPPING.replace('/detections', '/nowhere'), 'map.yaml');
    const r = await importRos2Bag({ bag: bagPath, out: join(dir, 'bad.smi.mcap'), mapping });
    expect(r.topics.find((t) => t.topic === '/points')!.whyNot).toBe(
      "message encoding 'json' is not CDR; a ROS 2 bag stores cdr",
    );
    expect(r.topics.find((t) => t.topic === '/odom')!.whyNot).toBe(
      'is std_msgs/msg/String; kind ego is made from nav_msgs/msg/Odometry',
    );
    expect(r.missing).toEqual(['/nowhere']);
  });

  it('validates the mapping file, naming the line and what is allowed', () => {
    expect(() => parseRos2Mapping(MAPPING.replace('kind: objects', 'kind: camera'), 'map.yaml')).toThrow(
      /map\.yaml:\d+: spec\.topics\[2\]\.kind: .*lidar, ego, objects/,
    );
    expect(() => parseRos2Mapping(MAPPING.replace('sensor: detector', 'sensor: ego'), 'map.yaml')).toThrow(
      /sensor 'ego' is used twice/,
    );
    expect(() =>
      parseRos2Mapping(
        MAPPING.replace('kind: objects }', 'kind: objects, classes: { cone: bollard } }'),
        'map.yaml',
      ),
    ).toThrow(/map\.yaml:\d+: spec\.topics\[2\]\.classes\.cone: .*unknown, car, truck, pedestrian, cyclist/);
    expect(() =>
      parseRos2Mapping(MAPPING.replace('kind: lidar }', 'kind: lidar, classes: { a: car } }'), 'map.yaml'),
    ).toThrow(/spec\.topics\[0\]\.classes: classes applies to kind objects only, not lidar/);
  });
});

describe('Detection3DArray conversion', () => {
  const header = { stamp: time(0n), frame_id: 'det' };
  it("maps labels by the topic's classes first, then the built-in names, else unknown (listed)", () => {
    const msg = { header, detections: [detection('1', 0.7, 10, 0, 0), detection('Truck', 0.8, 20, 0, 0)] };
    const plain = convertDetection3DArray(msg);
    if (typeof plain === 'string') throw new Error(plain);
    expect([plain.records[7], plain.records[16 + 7]]).toEqual([0, 2]);
    expect([...plain.unknownLabels]).toEqual([['1', 1]]);
    const mapped = convertDetection3DArray(msg, { classes: { '1': 'car' } });
    if (typeof mapped === 'string') throw new Error(mapped);
    expect(mapped.records[7]).toBe(1);
    expect(mapped.unknownLabels.size).toBe(0);
    expect(classOfLabel('vehicle.bus.rigid')).toBe(2);
    expect(classOfLabel('Pedestrian')).toBe(3);
  });

  it('turns boxes of a rolled or pitched frame into the levelled one', () => {
    // 90° roll about x: the frame's y is up, its z points right (−y of the levelled frame).
    const rollX = Float64Array.of(1, 0, 0, 0, 0, -1, 0, 1, 0);
    const msg = { header, detections: [detection('car', 0.9, 10, 0.8, 0)] };
    const r = convertDetection3DArray(msg, { rotation: rollX });
    if (typeof r === 'string') throw new Error(r);
    expect([...r.records.subarray(0, 3)].map((v) => +v.toFixed(5))).toEqual([10, -0.8, 0.8]);
    expect(r.records[6]).toBeCloseTo(0, 6);
  });

  it('refuses a message with a score outside 0..1 or a non-finite value, saying which detection', () => {
    const logit = { header, detections: [detection('car', 0.9, 1, 0, 0), detection('car', 2.5, 10, 0, 0)] };
    expect(convertDetection3DArray(logit)).toBe(
      'detection 1: score 2.5 is outside 0..1 (vision_msgs scores are probabilities)',
    );
    const nan = { header, detections: [detection('car', 0.9, NaN, 0, 0)] };
    expect(convertDetection3DArray(nan)).toBe('detection 0 holds NaN or Inf (or a value beyond float32)');
  });
});

describe('PointCloud2 conversion', () => {
  it('reads any layout: float64 big-endian x, y, z with a reflectivity field, rotated by the mount rest', () => {
    const step = 32;
    const n = 3;
    const data = new Uint8Array(n * step);
    const v = new DataView(data.buffer);
    for (let i = 0; i < n; i++) {
      v.setFloat64(i * step + 8, i + 1, false); // x at 8
      v.setFloat64(i * step + 16, 2 * i, false); // y at 16
      v.setFloat64(i * step + 0, -1, false); // z at 0
      v.setUint16(i * step + 24, 65535 * (i / 2), false);
    }
    const msg = {
      header: { stamp: time(0n), frame_id: 'l' },
      height: 1,
      width: n,
      fields: [field('z', 0, 8), field('x', 8, 8), field('y', 16, 8), field('reflectivity', 24, 4)],
      is_bigendian: true,
      point_step: step,
      row_step: n * step,
      data,
    };
    const plain = convertPointCloud2(msg);
    if (typeof plain === 'string') throw new Error(plain);
    expect(plain.intensityField).toBe('reflectivity');
    expect([...plain.points.subarray(0, 12)]).toEqual([
      1,
      0,
      -1,
      0,
      2,
      2,
      -1,
      Math.fround(32767 / 65535),
      3,
      4,
      -1,
      1,
    ]);
    // A 90° roll about x: (x, y, z) → (x, -z, y).
    const roll = Float64Array.of(1, 0, 0, 0, 0, -1, 0, 1, 0);
    const rolled = convertPointCloud2(msg, { rotation: roll });
    if (typeof rolled === 'string') throw new Error(rolled);
    expect([...rolled.points.subarray(0, 3)]).toEqual([1, 1, 0]);
    expect(convertPointCloud2({ ...msg, row_step: 8 })).toMatch(
      /row_step 8 is less than width 3 x point_step 32/,
    );
    expect(convertPointCloud2({ ...msg, data: data.subarray(0, 40) })).toMatch(/data is 40 bytes/);
    expect(convertPointCloud2(msg, { intensityField: 'i' })).toMatch(
      /no field 'i' \(the mapping's intensityField/,
    );
  });
});
