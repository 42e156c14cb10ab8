import { stringify } from 'yaml';
import { defaultPipelineSpec, loadSpecSet, type PipelineSpec } from '../smi/spec/pipeline-spec.js';
import { pipelinePaths } from './run-flags.js';
import { FileValidationError } from '../schema/yaml-file.js';
import { DEFAULT_LIDAR, EGO_BOX, cameraIntrinsics } from '../sim/index.js';
import { sensorTopic } from '../wire/codec.js';
import { LAYOUTS } from '../wire/layouts.js';
import type { CommandSpec, FlagValues } from './flags.js';

export const RIG_COMMAND: CommandSpec = {
  name: 'rig',
  summary: 'Print the resolved sensor rig of a pipeline (default: the built-in one) as YAML.',
  usage: 'smi-fusion rig [--pipeline FILE]',
  flags: [
    { name: 'pipeline', type: 'string', valueName: 'FILE', doc: 'pipeline spec (default: the built-in rig)' },
  ],
  notes:
    'Per sensor: id, kind, topic, rate, mount in spec units (m, yawDeg; the pose in base_link), field of\n' +
    'view, range, its pool channel and payload layout; cameras add the intrinsics the simulator uses and\n' +
    "lidars the simulated head's geometry. Frames: ISO 8855 (x forward, y left, z up); base_link is the\n" +
    'centre of the rear axle on the ground.',
};

const round = (v: number, digits = 4): number => Math.round(v * 10 ** digits) / 10 ** digits;

/** The rig of `spec` as a plain document (what `rig` prints). */
export function rigDocument(spec: PipelineSpec): object {
  return {
    pipeline: spec.name,
    origin: spec.origin,
    frame:
      'base_link: ISO 8855, x forward, y left, z up, m; origin at the centre of the rear axle on the ground',
    ego: {
      note: 'the body the planner protects (ttc and AEB; see README "Outputs")',
      frontM: EGO_BOX.front,
      rearM: -EGO_BOX.rear,
      widthM: 2 * EGO_BOX.halfWidth,
    },
    stages: spec.stages.map((s) => `${s.name} (${s.class}, ${s.budgetMs} ms, ${s.placement})`),
    sensors: spec.sensors.map((s) => {
      const layout = LAYOUTS[s.kind];
      const ch = spec.channels[s.id]!;
      const out: Record<string, unknown> = {
        id: s.id,
        kind: s.kind,
        topic: sensorTopic(s.kind, s.id),
        rateHz: s.rateHz,
        mount: { x: s.mount.x, y: s.mount.y, z: s.mount.z, yawDeg: round((s.mount.yaw * 180) / Math.PI, 6) },
        fovDeg: s.fovDeg,
        rangeM: s.rangeM,
        payload: {
          fields: layout.fields,
          stride: layout.stride,
          scalar: layout.scalar,
          frame: s.kind === 'ego' ? 'odom' : s.id,
        },
        channel: { slots: ch.slots, slotBytes: ch.slotBytes, access: ch.access, producer: ch.producer },
      };
      if (s.kind === 'camera') {
        const k = cameraIntrinsics(s.fovDeg);
        out.camera = {
          imageWidth: k.width,
          imageHeight: k.height,
          focalPx: round(k.focalPx, 3),
          cx: k.cx,
          cy: k.cy,
          pixels: 'square; u to the right, v down, from the top-left corner of the image',
          box: 'u0, v0 = top-left corner, u1, v1 = bottom-right corner, clipped to the image',
          bearing: 'of the box centre, atan((cx - (u0 + u1) / 2) / focalPx), rad, positive to the left',
          range:
            'monocular estimate of the horizontal distance from the camera to the nearest point of the object footprint, m',
        };
      }
      if (s.kind === 'lidar') {
        out.lidar = {
          note: 'geometry of the simulated head (a driver for a real lidar sends its own points)',
          beams: DEFAULT_LIDAR.beams,
          columns: DEFAULT_LIDAR.columns,
          elevationDeg: [DEFAULT_LIDAR.elevationMinDeg, DEFAULT_LIDAR.elevationMaxDeg],
          maxPoints: DEFAULT_LIDAR.beams * DEFAULT_LIDAR.columns,
          stamp: 'every point at stampNs (one instant per scan, no per-point time)',
        };
      }
      return out;
    }),
  };
}

/** `smi-fusion rig`: returns the exit code. */
export function rigCommand(flags: FlagValues): number {
  let spec: PipelineSpec;
  try {
    spec = flags.pipeline !== undefined ? loadSpecSet(pipelinePaths(flags.pipeline)) : defaultPipelineSpec();
  } catch (err) {
    process.stderr.write(`smi-fusion rig: --pipeline: invalid spec\n${(err as Error).message}\n`);
    return err instanceof FileValidationError ? 2 : 1;
  }
  process.stdout.write(stringify(rigDocument(spec), { lineWidth: 0, aliasDuplicateObjects: false }));
  return 0;
}
