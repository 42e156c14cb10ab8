import { CHUNK_COMPRESSIONS } from '../io/zstd-codec.js';
import type { CommandSpec, FlagValues } from './flags.js';
import { importKitti } from './import-kitti.js';
import { importRos2 } from './import-ros2.js';

export const IMPORT_COMMAND: CommandSpec = {
  name: 'import',
  summary: 'Turn data of another tool into drives (MCAP): a ROS 2 bag, or KITTI tracking sequences.',
  usage:
    'smi-fusion import ros2 BAG.mcap --map FILE [--out DRIVE.mcap]\n' +
    '       smi-fusion import kitti-tracking --detections DIR --calib DIR [--labels DIR] [--oxts DIR] [--sequences LIST] --out DIR',
  positionals: {
    name: 'FORMAT [BAG]',
    min: 1,
    max: 2,
    doc: 'ros2 (then the bag: a ROS 2 MCAP file, CDR) or kitti-tracking',
  },
  flags: [
    {
      name: 'map',
      type: 'string',
      valueName: 'FILE',
      doc: 'ros2: mapping of bag topics to sensors (kind: Ros2Import; required)',
    },
    {
      name: 'out',
      type: 'string',
      valueName: 'PATH',
      doc: 'ros2: the drive to write (default: BAG with .smi.mcap); kitti-tracking: the directory for <seq>.mcap (required)',
    },
    {
      name: 'compression',
      type: 'enum',
      values: CHUNK_COMPRESSIONS,
      doc: 'ros2: MCAP chunk compression (default zstd)',
    },
    {
      name: 'detections',
      type: 'string',
      valueName: 'DIR',
      doc: "kitti-tracking: detections per sequence, <seq>.txt (AB3DMOT's comma-separated format or KITTI result lines)",
    },
    {
      name: 'calib',
      type: 'string',
      valueName: 'DIR',
      doc: 'kitti-tracking: calibration per sequence, <seq>.txt (required)',
    },
    {
      name: 'labels',
      type: 'string',
      valueName: 'DIR',
      doc: 'kitti-tracking: label_02 files, <seq>.txt: ground truth (optional)',
    },
    {
      name: 'oxts',
      type: 'string',
      valueName: 'DIR',
      doc: 'kitti-tracking: oxts files, <seq>.txt: ego motion (optional; else standing still)',
    },
    {
      name: 'sequences',
      type: 'string',
      valueName: 'LIST',
      doc: 'kitti-tracking: comma-separated sequence names (default: every file in --detections)',
    },
    {
      name: 'score',
      type: 'enum',
      values: ['auto', 'logit', 'probability'],
      doc: 'kitti-tracking: detection scores are log-odds (mapped by 1/(1+e^-s)) or 0..1; auto: logit if any is outside 0..1',
    },
  ],
  notes:
    'ros2: sensor_msgs/msg/PointCloud2 becomes lidar (x, y, z and an intensity-like field, organised or not),\n' +
    'nav_msgs/msg/Odometry becomes ego, tf2_msgs/msg/TFMessage on /tf_static gives the mounts;\n' +
    'vision_msgs/msg/Detection3DArray becomes objects (box, best hypothesis: class by label, score 0..1,\n' +
    "pose covariance; a topic's classes map labels the built-in names miss). Unmapped topics are listed once;\n" +
    'messages that cannot be converted are counted with the reason. Exit 0 when every mapped topic\n' +
    'converted; 1 when the bag was cut short or damaged (the drive holds what was read, and the command\n' +
    'says at which byte it stopped), a mapped topic is missing or could not be converted at all; 2 on bad\n' +
    'input (flags, mapping file).\n' +
    'kitti-tracking: one drive per sequence: the detections as an object list (sensor kitti_objects,\n' +
    '10 Hz) in the rectified camera frame re-axised to x forward, y left, z up, mounted where the\n' +
    'calibration puts the camera; odometry from oxts or standing still; with labels, ground truth under\n' +
    "KITTI's Car rules (truth/actors: Cars within truncation 0 and occlusion 2; truth/ignored: Vans and\n" +
    'the rest). A bad file is an error naming the file and line; exit 2 on bad flags, 1 on bad data.',
};

/** `smi-fusion import FORMAT ...`: returns the exit code. */
export async function importCommand(flags: FlagValues, positionals: readonly string[]): Promise<number> {
  const [format, bag] = positionals;
  if (format === 'ros2') return importRos2(flags, bag!);
  if (format === 'kitti-tracking') return importKitti(flags);
  process.stderr.write(
    `smi-fusion import: format '${format}' is not supported; allowed: ros2, kitti-tracking\n`,
  );
  return 2;
}
