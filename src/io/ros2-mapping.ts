/**
 * The mapping file of `smi-fusion import ros2`: which topics of a ROS 2 bag become which sensors
 * of the drive. YAML, validated like a pipeline spec (errors name file, line, path, what is allowed):
 *
 *   apiVersion: smi-fusion.dev/v1alpha1
 *   kind: Ros2Import
 *   metadata: { name: my-bag }
 *   spec:
 *     baseFrame: base_link      # frame the mounts are expressed in (default base_link)
 *     tfStatic: /tf_static      # tf2_msgs/msg/TFMessage topic with the mounts (default /tf_static)
 *     stamps: header            # stampNs from each message's header.stamp, or `receive`: the bag's log time
 *     topics:
 *       - { topic: /points, sensor: lidar_top, kind: lidar, rateHz: 10, intensityField: intensity }
 *       - { topic: /odom, sensor: ego, kind: ego }
 *       - { topic: /detections, sensor: detector, kind: objects, classes: { "1": car } }
 */
import { SENSOR_ID_PATTERN } from '../wire/codec.js';
import { ObjectClass, type ObjectClassName } from '../wire/layouts.js';
import { arr, num, obj, opt, req, str } from '../schema/schema.js';
import {
  FileValidationError,
  parseYamlDocuments,
  readTextFile,
  validateDocument,
  type FileIssue,
} from '../schema/yaml-file.js';
import { API_VERSION } from '../smi/spec/pipeline-spec.js';

/** Drive kinds a topic can map to. */
export const IMPORT_KINDS = ['lidar', 'ego', 'objects'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

const OBJECT_CLASS_NAMES = Object.keys(ObjectClass) as ObjectClassName[];

export interface TopicMapping {
  topic: string;
  sensor: string;
  kind: ImportKind;
  /** Nominal rate for the drive's rig (default: measured from the bag). */
  rateHz?: number;
  fovDeg?: number;
  rangeM?: number;
  /** Frame whose /tf_static pose is the mount (default: the messages' header.frame_id). */
  frame?: string;
  /** PointCloud2 field used as intensity (default: the first of intensity, i, reflectivity, intensities). */
  intensityField?: string;
  /** Intensity multiplier (default: 1 for float fields, 1/max for integer fields); results clamp to 0..1. */
  intensityScale?: number;
  /** Kind objects: detector label → class, ahead of the built-in names (ros2-detections.ts). */
  classes?: Record<string, ObjectClassName>;
}

export interface Ros2Mapping {
  name: string;
  file: string;
  baseFrame: string;
  tfStatic: string;
  stamps: 'header' | 'receive';
  topics: TopicMapping[];
}

const SCHEMA = obj({
  apiVersion: req(str({ enum: [API_VERSION] })),
  kind: req(str({ enum: ['Ros2Import'] })),
  metadata: req(
    obj({
      name: req(str({ pattern: SENSOR_ID_PATTERN, patternDoc: 'letters, digits, _ or -, 1-64 characters' })),
    }),
  ),
  spec: req(
    obj({
      baseFrame: opt(str()),
      tfStatic: opt(str()),
      stamps: opt(str({ enum: ['header', 'receive'] })),
      topics: req(
        arr(
          obj({
            topic: req(str()),
            sensor: req(
              str({ pattern: SENSOR_ID_PATTERN, patternDoc: 'letters, digits, _ or -, 1-64 characters' }),
            ),
            kind: req(str({ enum: IMPORT_KINDS })),
            rateHz: opt(num({ min: 0, exclusiveMin: true, max: 10_000 })),
            fovDeg: opt(num({ min: 0, max: 360 })),
            rangeM: opt(num({ min: 0 })),
            frame: opt(str()),
            intensityField: opt(str()),
            intensityScale: opt(num({ min: 0, exclusiveMin: true })),
            classes: opt({ type: 'map', values: str({ enum: OBJECT_CLASS_NAMES }) }),
          }),
          { minItems: 1 },
        ),
      ),
    }),
  ),
});

interface RawMapping {
  metadata: { name: string };
  spec: { baseFrame?: string; tfStatic?: string; stamps?: 'header' | 'receive'; topics: TopicMapping[] };
}

/** Parses and validates a mapping; throws FileValidationError naming file, line and path. */
export function parseRos2Mapping(text: string, file: string): Ros2Mapping {
  const { docs, issues } = parseYamlDocuments(text, file);
  if (issues.length > 0) throw new FileValidationError(issues);
  const doc = docs[0];
  if (!doc || docs.length > 1) {
    throw new FileValidationError([
      { file, doc: 0, path: '(document)', message: 'expected exactly one Ros2Import document' },
    ]);
  }
  const found = validateDocument(doc, SCHEMA, file);
  if (found.length > 0) throw new FileValidationError(found);
  const raw = doc.value as RawMapping;
  const cross: FileIssue[] = [];
  const seenTopics = new Set<string>();
  const seenSensors = new Set<string>();
  raw.spec.topics.forEach((t, i) => {
    const path = `spec.topics[${i}]`;
    if (seenTopics.has(t.topic))
      cross.push({
        file,
        doc: 0,
        line: doc.lineOf(`${path}.topic`),
        path: `${path}.topic`,
        message: `topic '${t.topic}' is mapped twice`,
      });
    if (seenSensors.has(t.sensor))
      cross.push({
        file,
        doc: 0,
        line: doc.lineOf(`${path}.sensor`),
        path: `${path}.sensor`,
        message: `sensor '${t.sensor}' is used twice`,
      });
    if (t.kind !== 'lidar' && (t.intensityField !== undefined || t.intensityScale !== undefined))
      cross.push({
        file,
        doc: 0,
        line: doc.lineOf(path),
        path,
        message: `intensityField/intensityScale apply to kind lidar only, not ${t.kind}`,
      });
    if (t.kind !== 'objects' && t.classes !== undefined)
      cross.push({
        file,
        doc: 0,
        line: doc.lineOf(`${path}.classes`),
        path: `${path}.classes`,
        message: `classes applies to kind objects only, not ${t.kind}`,
      });
    seenTopics.add(t.topic);
    seenSensors.add(t.sensor);
  });
  if (raw.spec.topics.filter((t) => t.kind === 'ego').length > 1)
    cross.push({
      file,
      doc: 0,
      line: doc.lineOf('spec.topics'),
      path: 'spec.topics',
      message: 'at most one topic of kind ego',
    });
  if (cross.length > 0) throw new FileValidationError(cross);
  return {
    name: raw.metadata.name,
    file,
    baseFrame: raw.spec.baseFrame ?? 'base_link',
    tfStatic: raw.spec.tfStatic ?? '/tf_static',
    stamps: raw.spec.stamps ?? 'header',
    topics: raw.spec.topics,
  };
}

/** Reads, parses and validates a mapping file. */
export function loadRos2Mapping(file: string): Ros2Mapping {
  const { text, issues } = readTextFile(file);
  if (text === undefined) throw new FileValidationError(issues);
  return parseRos2Mapping(text, file);
}
