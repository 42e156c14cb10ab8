/**
 * `replay --export-tracks kitti DIR`: the published tracks as a KITTI tracking result file
 * (DIR/<sequence>.txt: one line per track per frame, rectified camera frame, image box from P2,
 * score = existence; tracks wholly outside the image are left out, as KITTI labels only what
 * the camera sees), which the KITTI devkit, TrackEval or AB3DMOT's evaluator read unchanged.
 * A drive imported from KITTI carries its sequence name, camera mount, P2 and frame period; for
 * any other drive the camera is KITTI's nominal one at 1.65 m above base_link, looking forward,
 * frames are 100 ms from the drive's start, and the newest track list of each frame is written.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Mount } from '../wire/mount.js';
import { ObjectClass, TRACK } from '../wire/layouts.js';
import { trackBox, type Box3 } from '../metrics/index.js';
import type { DriveMetadata } from './mcap-drive-writer.js';
import { META } from './drive-format.js';
import { formatTrackingLine, type KittiObject } from './kitti-format.js';
import { KITTI_CAR_RULES } from './kitti-evaluation.js';
import {
  baseLinkToCamera,
  KITTI_CAMERA_HEIGHT_M,
  observationAngle,
  projectBox,
  shareInside,
} from './kitti-geometry.js';

/** KITTI's published P2 of its first drives: the camera model when a drive has none. */
const NOMINAL_P2 = Float64Array.of(
  721.5377,
  0,
  609.5593,
  44.85728,
  0,
  721.5377,
  172.854,
  0.2163791,
  0,
  0,
  1,
  0.002745884,
);

const TYPE_OF: Record<number, string> = {
  [ObjectClass.unknown]: 'Misc',
  [ObjectClass.car]: 'Car',
  [ObjectClass.truck]: 'Truck',
  [ObjectClass.pedestrian]: 'Pedestrian',
  [ObjectClass.cyclist]: 'Cyclist',
};

export interface KittiExportGeometry {
  sequence: string;
  mount: Mount;
  P2: Float64Array;
  frameNs: bigint;
  /** Stamp of frame 0, ns. */
  startNs: bigint;
}

/** The export geometry of a drive: from its KITTI import record, else the nominal camera. */
export function exportGeometry(meta: DriveMetadata, drivePath: string): KittiExportGeometry {
  const k = meta[META.kitti];
  const name = drivePath.replace(/^.*[\\/]/, '').replace(/\.mcap$/, '');
  if (k?.P2 && k.mount && k.frameNs) {
    return {
      sequence: k.sequence ?? name,
      mount: JSON.parse(k.mount) as Mount,
      P2: Float64Array.from(JSON.parse(k.P2) as number[]),
      frameNs: BigInt(k.frameNs),
      startNs: 0n,
    };
  }
  const start = meta[META.drive]?.startNs;
  return {
    sequence: name,
    mount: { x: 0, y: 0, z: KITTI_CAMERA_HEIGHT_M, yaw: 0 },
    P2: NOMINAL_P2,
    frameNs: 100_000_000n,
    startNs: start !== undefined && /^\d+$/.test(start) ? BigInt(start) : 0n,
  };
}

/** Where a track stands with respect to a KITTI frame (see `kittiView`). */
export type KittiVisibility = 'outside' | 'ignorable' | 'scored';

/**
 * A track's place in a KITTI frame: `outside` the image (not in the frame at all), `ignorable`
 * (at most 25 px tall, or more than half inside a DontCare region: not a false positive when it
 * matches nothing) or `scored`. `dontCare` holds left, top, right, bottom per region.
 */
export function kittiVisibility(
  g: KittiExportGeometry,
  track: Box3,
  dontCare: Float32Array,
): KittiVisibility {
  const cam = baseLinkToCamera(g.mount, track);
  if (!(cam.z > 0.1)) return 'outside';
  const image = projectBox(g.P2, cam);
  if (!image) return 'outside';
  const [x1, y1, x2, y2] = image;
  if (y2 - y1 <= KITTI_CAR_RULES.minHeightPx) return 'ignorable';
  for (let r = 0; r + 4 <= dontCare.length; r += 4) {
    const share = shareInside(
      x1,
      y1,
      x2,
      y2,
      dontCare[r]!,
      dontCare[r + 1]!,
      dontCare[r + 2]!,
      dontCare[r + 3]!,
    );
    if (share > KITTI_CAR_RULES.dontCareOverlap) return 'ignorable';
  }
  return 'scored';
}

/** Collects published track lists and writes them as one KITTI result file. */
export class KittiTrackExport {
  private readonly frames = new Map<number, KittiObject[]>();

  constructor(
    private readonly geometry: KittiExportGeometry,
    private readonly dir: string,
  ) {}

  /** One `out/tracks` message: TRACKS_LAYOUT records valid at stampNs (base_link). */
  add(stampNs: bigint, tracks: Float32Array, count: number): void {
    const g = this.geometry;
    const rel = stampNs - g.startNs;
    if (rel < 0n) return;
    const frame = Number((rel + g.frameNs / 2n) / g.frameNs);
    const list: KittiObject[] = [];
    for (let i = 0; i < count; i++) {
      const o = i * TRACK.stride;
      const cam = baseLinkToCamera(g.mount, trackBox(tracks, o));
      if (!(cam.z > 0.1)) continue; // behind the camera: not in a KITTI frame
      const image = projectBox(g.P2, cam);
      if (!image) continue; // outside the image: KITTI frames hold what the camera sees
      const [x1, y1, x2, y2] = image;
      list.push({
        frame,
        trackId: tracks[o + TRACK.id]!,
        type: TYPE_OF[tracks[o + TRACK.classId]!] ?? 'Misc',
        truncated: 0,
        occluded: 0,
        alpha: observationAngle(cam.x, cam.z, cam.ry),
        x1,
        y1,
        x2,
        y2,
        h: cam.h,
        w: cam.w,
        l: cam.l,
        x: cam.x,
        y: cam.y,
        z: cam.z,
        ry: cam.ry,
        score: tracks[o + TRACK.existence]!,
      });
    }
    this.frames.set(frame, list);
  }

  /** The results so far, in frame order. */
  results(): KittiObject[] {
    const out: KittiObject[] = [];
    for (const f of [...this.frames.keys()].sort((a, b) => a - b)) out.push(...this.frames.get(f)!);
    return out;
  }

  /** Writes DIR/<sequence>.txt; returns its path and the number of lines. */
  finish(): { path: string; lines: number } {
    mkdirSync(this.dir, { recursive: true });
    const path = join(this.dir, `${this.geometry.sequence}.txt`);
    const lines = this.results().map(formatTrackingLine);
    writeFileSync(path, lines.length > 0 ? `${lines.join('\n')}\n` : '');
    return { path, lines: lines.length };
  }
}
