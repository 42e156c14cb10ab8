import { GT } from '../wire/ground-truth.js';
import { TRACK } from '../wire/layouts.js';
import type { Box3 } from './box-overlap.js';

/** The box of the TRACKS_LAYOUT record at offset o of v. */
export function trackBox(v: Float32Array, o: number): Box3 {
  return {
    x: v[o + TRACK.x]!,
    y: v[o + TRACK.y]!,
    z: v[o + TRACK.z]!,
    length: v[o + TRACK.length]!,
    width: v[o + TRACK.width]!,
    height: v[o + TRACK.height]!,
    yaw: v[o + TRACK.yaw]!,
  };
}

/** The box of the ground-truth (GT layout) record at offset o of v, moved by its velocity over dtS. */
export function truthBox(v: Float32Array, o: number, dtS = 0): Box3 {
  return {
    x: v[o + GT.x]! + v[o + GT.vx]! * dtS,
    y: v[o + GT.y]! + v[o + GT.vy]! * dtS,
    z: v[o + GT.z]!,
    length: v[o + GT.length]!,
    width: v[o + GT.width]!,
    height: v[o + GT.height]!,
    yaw: v[o + GT.yaw]!,
  };
}
