import type { ActorClass } from './actor-classes.js';

/** A change of speed toward `to` (m/s) at `rate` (m/s², magnitude), from time `at` (s). */
export interface SpeedStep {
  kind: 'brake' | 'speedChange';
  at: number;
  to: number;
  rate: number;
}

/** A lane change to `toLane` over `duration` s, from time `at`. */
export interface LaneChangeStep {
  kind: 'laneChange';
  at: number;
  toLane: number;
  duration: number;
}

/** Crossing the road sideways at `speed` m/s toward `to`, for `distance` m, from time `at`. */
export interface CrossStep {
  kind: 'cross';
  at: number;
  speed: number;
  to: 'left' | 'right';
  distance: number;
}

export type MotionStep = SpeedStep | LaneChangeStep | CrossStep;

/** One scripted road user, with every default resolved. */
export interface ScenarioActor {
  /** Name from the file; ground truth uses `gtId` (1-based position in the list). */
  id: string;
  gtId: number;
  class: ActorClass;
  classId: number;
  length: number;
  width: number;
  height: number;
  /** Station of the box centre at t=0, m along the road from the ego's rear axle. */
  s: number;
  /** Lateral offset of the box centre at t=0, m from the road centre line (+ left). */
  d: number;
  /** Speed along its path at t=0, m/s. */
  speed: number;
  /** Drives against the road direction. */
  oncoming: boolean;
  motion: MotionStep[];
}

/** A sensor silent over [from, to) s. */
export interface Dropout {
  sensor: string;
  from: number;
  to: number;
}

/** A validated scenario in SI units with every default resolved. */
export interface Scenario {
  name: string;
  description: string;
  /** File it came from (as given to the loader). */
  file: string;
  seed: number;
  /** s. */
  duration: number;
  road: { lanes: number; laneWidth: number; curvature: number };
  ego: {
    lane: number;
    /** Lateral offset in the lane, m (+ left). */
    offset: number;
    /** Initial (and scripted) speed, m/s. */
    speed: number;
    /** Speed steps only (brake, speedChange). */
    motion: MotionStep[];
  };
  actors: ScenarioActor[];
  dropouts: Dropout[];
}
