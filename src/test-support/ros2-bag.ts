/**
 * Writes small ROS 2 bags (MCAP, CDR, ros2msg schemas, profile ros2) for import tests, with
 * @mcap/core and @foxglove/rosmsg2-serialization from the standard message definitions, as
 * rosbag2's MCAP storage writes them (the type's own definition, then each dependency after a
 * `MSG: pkg/Type` separator).
 */
import { writeFileSync } from 'node:fs';
import { McapWriter } from '@mcap/core';
import { parse } from '@foxglove/rosmsg';
import { MessageWriter } from '@foxglove/rosmsg2-serialization';
import { memoryWritable } from './drives.js';

const SEP = '================================================================================\n';
const dep = (name: string, body: string) => `${SEP}MSG: ${name}\n${body}`;

const TIME = dep('builtin_interfaces/Time', 'int32 sec\nuint32 nanosec\n');
const HEADER = dep('std_msgs/Header', 'builtin_interfaces/Time stamp\nstring frame_id\n') + TIME;
const VECTOR3 = dep('geometry_msgs/Vector3', 'float64 x\nfloat64 y\nfloat64 z\n');
const QUATERNION = dep('geometry_msgs/Quaternion', 'float64 x 0\nfloat64 y 0\nfloat64 z 0\nfloat64 w 1\n');
const POINT = dep('geometry_msgs/Point', 'float64 x\nfloat64 y\nfloat64 z\n');
const POSE = dep('geometry_msgs/Pose', 'Point position\nQuaternion orientation\n') + POINT + QUATERNION;
const POSE_COV = dep('geometry_msgs/PoseWithCovariance', 'Pose pose\nfloat64[36] covariance\n') + POSE;

/** Standard ROS 2 message definitions (sensor_msgs, nav_msgs, tf2_msgs, vision_msgs, std_msgs). */
export const ROS2_DEFINITIONS: Record<string, string> = {
  'sensor_msgs/msg/PointCloud2':
    'std_msgs/Header header\nuint32 height\nuint32 width\nPointField[] fields\nbool is_bigendian\nuint32 point_step\nuint32 row_step\nuint8[] data\nbool is_dense\n' +
    HEADER +
    dep(
      'sensor_msgs/PointField',
      'uint8 INT8 = 1\nuint8 UINT8 = 2\nuint8 INT16 = 3\nuint8 UINT16 = 4\nuint8 INT32 = 5\nuint8 UINT32 = 6\nuint8 FLOAT32 = 7\nuint8 FLOAT64 = 8\nstring name\nuint32 offset\nuint8 datatype\nuint32 count\n',
    ),
  'nav_msgs/msg/Odometry':
    'std_msgs/Header header\nstring child_frame_id\ngeometry_msgs/PoseWithCovariance pose\ngeometry_msgs/TwistWithCovariance twist\n' +
    HEADER +
    POSE_COV +
    dep('geometry_msgs/TwistWithCovariance', 'Twist twist\nfloat64[36] covariance\n') +
    dep('geometry_msgs/Twist', 'Vector3 linear\nVector3 angular\n') +
    VECTOR3,
  'tf2_msgs/msg/TFMessage':
    'geometry_msgs/TransformStamped[] transforms\n' +
    dep(
      'geometry_msgs/TransformStamped',
      'std_msgs/Header header\nstring child_frame_id\nTransform transform\n',
    ) +
    HEADER +
    dep('geometry_msgs/Transform', 'Vector3 translation\nQuaternion rotation\n') +
    VECTOR3 +
    QUATERNION,
  'vision_msgs/msg/Detection3DArray':
    'std_msgs/Header header\nDetection3D[] detections\n' +
    HEADER +
    dep(
      'vision_msgs/Detection3D',
      'std_msgs/Header header\nObjectHypothesisWithPose[] results\nBoundingBox3D bbox\nstring id\n',
    ) +
    dep(
      'vision_msgs/ObjectHypothesisWithPose',
      'ObjectHypothesis hypothesis\ngeometry_msgs/PoseWithCovariance pose\n',
    ) +
    dep('vision_msgs/ObjectHypothesis', 'string class_id\nfloat64 score\n') +
    dep('vision_msgs/BoundingBox3D', 'geometry_msgs/Pose center\ngeometry_msgs/Vector3 size\n') +
    POSE_COV +
    VECTOR3,
  'std_msgs/msg/String': 'string data\n',
};

export const time = (ns: bigint) => ({
  sec: Number(ns / 1_000_000_000n),
  nanosec: Number(ns % 1_000_000_000n),
});

/** A bag being written in memory; `save(path)` writes it. */
export class Ros2BagWriter {
  private readonly memory = memoryWritable();
  private readonly writer = new McapWriter({
    writable: this.memory.writable,
    chunkSize: 4 * 1024, // small chunks: a cut bag keeps most of its messages
  });
  private readonly channels = new Map<string, { id: number; writer?: MessageWriter; seq: number }>();
  private started: Promise<void>;

  constructor() {
    this.started = this.writer.start({ profile: 'ros2', library: 'smi-fusion test' });
  }

  /** Declares `topic` of ROS 2 type `type` (one of ROS2_DEFINITIONS) with CDR, or another encoding. */
  async topic(
    topic: string,
    type: string,
    messageEncoding = 'cdr',
    schemaEncoding = 'ros2msg',
  ): Promise<void> {
    await this.started;
    const text = ROS2_DEFINITIONS[type]!;
    const schemaId = await this.writer.registerSchema({
      name: type,
      encoding: schemaEncoding,
      data: new TextEncoder().encode(text),
    });
    const id = await this.writer.registerChannel({ topic, schemaId, messageEncoding, metadata: new Map() });
    this.channels.set(topic, {
      id,
      ...(messageEncoding === 'cdr' ? { writer: new MessageWriter(parse(text, { ros2: true })) } : {}),
      seq: 0,
    });
  }

  /** Adds a message (an object of the topic's type, or raw bytes) received at `logTimeNs`. */
  async add(topic: string, message: unknown, logTimeNs: bigint): Promise<void> {
    const ch = this.channels.get(topic)!;
    const data =
      message instanceof Uint8Array ? message : ch.writer!.writeMessage(message as Record<string, unknown>);
    await this.writer.addMessage({
      channelId: ch.id,
      sequence: ch.seq++,
      logTime: logTimeNs,
      publishTime: logTimeNs,
      data,
    });
  }

  async save(path: string): Promise<Uint8Array> {
    await this.writer.end();
    const bytes = this.memory.bytes();
    writeFileSync(path, bytes);
    return bytes;
  }
}

/** PointField as written by the test clouds. */
export const field = (name: string, offset: number, datatype: number) => ({
  name,
  offset,
  datatype,
  count: 1,
});

/** A PointCloud2 message of `points` (x, y, z, intensity as given), float32 xyz + uint8 intensity, 16-byte points. */
export function cloudMessage(stampNs: bigint, frame: string, points: number[][], height = 1) {
  const step = 16;
  const data = new Uint8Array(points.length * step);
  const v = new DataView(data.buffer);
  points.forEach((p, i) => {
    v.setFloat32(i * step, p[0]!, true);
    v.setFloat32(i * step + 4, p[1]!, true);
    v.setFloat32(i * step + 8, p[2]!, true);
    v.setUint8(i * step + 12, p[3]!);
  });
  const width = points.length / height;
  return {
    header: { stamp: time(stampNs), frame_id: frame },
    height,
    width,
    fields: [field('x', 0, 7), field('y', 4, 7), field('z', 8, 7), field('intensity', 12, 2)],
    is_bigendian: false,
    point_step: step,
    row_step: width * step,
    data,
    is_dense: false,
  };
}

/** An Odometry message: pose (x, y, yaw) in `odom`, forward speed and yaw rate in the body frame. */
export function odometryMessage(
  stampNs: bigint,
  x: number,
  y: number,
  yaw: number,
  speed: number,
  yawRate: number,
) {
  const zero36 = new Array<number>(36).fill(0);
  return {
    header: { stamp: time(stampNs), frame_id: 'odom' },
    child_frame_id: 'base_link',
    pose: {
      pose: {
        position: { x, y, z: 0 },
        orientation: { x: 0, y: 0, z: Math.sin(yaw / 2), w: Math.cos(yaw / 2) },
      },
      covariance: zero36,
    },
    twist: {
      twist: { linear: { x: speed, y: 0, z: 0 }, angular: { x: 0, y: 0, z: yawRate } },
      covariance: zero36,
    },
  };
}

/** A TFMessage with one transform parent → child. */
export function tfMessage(
  stampNs: bigint,
  parent: string,
  child: string,
  t: [number, number, number],
  q: { x: number; y: number; z: number; w: number },
) {
  return {
    transforms: [
      {
        header: { stamp: time(stampNs), frame_id: parent },
        child_frame_id: child,
        transform: { translation: { x: t[0], y: t[1], z: t[2] }, rotation: q },
      },
    ],
  };
}
