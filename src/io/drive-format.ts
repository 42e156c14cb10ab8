/**
 * The layout of a recorded drive (an MCAP file): which channels, metadata records and message
 * encodings it holds. README "Drives" documents the same table for people.
 *
 * Raw channels (CDR `smi_fusion_msgs/msg/WireMessage`, mcap-wire-message.ts) carry wire-format
 * messages byte for byte: `sensor/<kind>/<id>` (what the service received), `out/tracks` and
 * `out/plan` (what it published, with --outputs), and `truth/actors` (simulator ground truth).
 * Foxglove channels under `/foxglove/` repeat some of them in Foxglove's schemas for viewing only;
 * replay never reads them. Every channel has a message encoding Foxglove and Lichtblick decode
 * (cdr with a ros2msg schema, or json with a jsonschema), so a drive opens with no problems.
 *
 * Format 1 (raw channels in the private encoding `smi-fusion-wire/1`) is still read by replay.
 */
import { GT } from '../wire/ground-truth.js';

/** Version of this layout, in the `smi-fusion/drive` metadata record. */
export const DRIVE_FORMAT_VERSION = '2';

/** MCAP header profile of drives. */
export const DRIVE_PROFILE = 'smi-fusion';

/** Metadata record names. */
export const META = {
  /** formatVersion, softwareVersion, producer (record | simulate), startNs, wallClockStart, ... */
  drive: 'smi-fusion/drive',
  /** `spec`: the resolved pipeline spec as JSON. */
  pipeline: 'smi-fusion/pipeline',
  /** one entry per sensor id: JSON {kind, rateHz, mount: {x, y, z, yaw (rad), yawDeg}, fovDeg, rangeM}. */
  calibration: 'smi-fusion/calibration',
  /** scenario name, file, seed (drives made by the simulator). */
  scenario: 'smi-fusion/scenario',
  /** source bag, mapping and conversion counts (drives made by `import ros2`). */
  import: 'smi-fusion/import',
  /** written at the end: messages offered / recorded / dropped per channel. */
  summary: 'smi-fusion/recording-summary',
  /** drives imported from KITTI tracking: sequence, files, score mapping, camera geometry (kitti-drive.ts). */
  kitti: 'smi-fusion/kitti',
} as const;

/** Raw channel of simulator ground truth (and of imported labels: the objects to score). */
export const TRUTH_TOPIC = 'truth/actors';
/**
 * Raw channel of labelled objects that scoring ignores (TRUTH_LAYOUT records): a track on one
 * is neither a true nor a false positive, and missing one is no miss (KITTI: Vans when scoring
 * Car, and Cars beyond the truncation and occlusion limits).
 */
export const TRUTH_IGNORED_TOPIC = 'truth/ignored';
/**
 * Raw channel of image regions that scoring ignores (KITTI DontCare): 4 float32 per region,
 * left, top, right, bottom in pixels of the drive's camera (the `smi-fusion/kitti` record's P2).
 */
export const TRUTH_DONTCARE_TOPIC = 'truth/dontcare';

/**
 * Ground truth payload: one float32 record per actor in base_link at the header's stampNs (the
 * simulator's GT layout): id, classId, box centre x, y, z (m), yaw (rad), velocity over ground
 * vx, vy (m/s, base_link axes), acceleration ax, ay (m/s²), box length, width, height (m).
 */
export const TRUTH_LAYOUT = {
  fields: ['id', 'classId', 'x', 'y', 'z', 'yaw', 'vx', 'vy', 'ax', 'ay', 'length', 'width', 'height'],
  stride: GT.stride * 4,
} as const;

/** Foxglove channels. */
export const FOXGLOVE_TOPICS = {
  /** foxglove.FrameTransforms: base_link → each sensor frame (the calibration), once a second. */
  calibration: '/foxglove/calibration',
  /** foxglove.FrameTransform: odom → base_link from each ego odometry message. */
  odometry: '/foxglove/odom',
  /** foxglove.SceneUpdate: boxes of the published tracks (base_link). */
  tracks: '/foxglove/tracks',
  /** foxglove.SceneUpdate: boxes of the ground-truth actors (base_link). */
  groundTruth: '/foxglove/ground_truth',
  /** foxglove.PointCloud per lidar: `/foxglove/lidar/<sensorId>`, in the lidar's own frame. */
  lidarPrefix: '/foxglove/lidar/',
} as const;

/** True for topics of channels that carry raw wire-format messages in a drive. */
export function isRawTopic(topic: string): boolean {
  return (
    topic.startsWith('sensor/') ||
    topic.startsWith('out/') ||
    topic === TRUTH_TOPIC ||
    topic === TRUTH_IGNORED_TOPIC ||
    topic === TRUTH_DONTCARE_TOPIC
  );
}
