/** Planner parameters of a pipeline spec (`spec.planning`, and the planner stage's `params`). */

/**
 * Planner parameters (`spec.planning`): name → default, allowed range, unit and meaning. The
 * planner (src/planning) takes its configuration from here; README's planning table lists the
 * same. Distances along the path are from the ego's front bumper unless said otherwise.
 */
export const PLANNING_PARAMS = {
  accEnabled: {
    default: true,
    doc: 'ACC controls the speed; false = AEB only (the driver drives; NCAP tests AEB so)',
  },
  cruiseSpeedMps: { default: 27.8, min: 0, max: 70, unit: 'm/s', doc: 'ACC set speed' },
  timeGapS: {
    default: 1.8,
    min: 0.8,
    max: 4,
    unit: 's',
    doc: 'ACC time gap to the lead: the desired gap is standstillGapM + timeGapS × the lead’s speed',
  },
  standstillGapM: {
    default: 4,
    min: 1,
    max: 20,
    unit: 'm',
    doc: 'ACC gap to the lead at standstill (bumper to bumper)',
  },
  accMaxAccel: { default: 2, min: 0, max: 4, unit: 'm/s²', doc: 'ACC acceleration limit' },
  accMaxDecel: {
    default: 3.5,
    min: 0.5,
    max: 5,
    unit: 'm/s²',
    doc: 'ACC deceleration limit (harder braking is AEB’s)',
  },
  accApproachDecel: {
    default: 2,
    min: 0.5,
    max: 5,
    unit: 'm/s²',
    doc: 'ACC closes in on a slower lead braking at about this: far from the desired gap it allows at most the closing speed from which braking at this ends at the gap',
  },

  accOpeningSpeedMps: {
    default: 1.5,
    min: 0.1,
    max: 10,
    unit: 'm/s',
    doc: 'closer than the desired gap, ACC falls back at no more than this relative speed (no hard braking for a gap that is short but not closing)',
  },
  accJerkMax: {
    default: 2.5,
    min: 0.5,
    max: 20,
    unit: 'm/s³',
    doc: 'limit on the rate of change of the command outside AEB braking (ISO 15622 comfort)',
  },
  gapGain: {
    default: 0.6,
    min: 0,
    max: 5,
    unit: '1/s²',
    doc: 'ACC gain on the gap error (to standstill gap + time gap × lead speed)',
  },
  relativeSpeedGain: {
    default: 0.8,
    min: 0,
    max: 5,
    unit: '1/s',
    doc: 'ACC gain on the speed difference to the lead',
  },
  cruiseGain: { default: 0.5, min: 0, max: 5, unit: '1/s', doc: 'ACC gain on the set speed error' },
  standstillHoldDecel: {
    default: 1,
    min: 0,
    max: 5,
    unit: 'm/s²',
    doc: 'deceleration held at standstill behind a stopped lead',
  },
  brakeDecisionAccel: {
    default: -2,
    min: -10,
    max: 0,
    unit: 'm/s²',
    doc: 'ACC braking harder than this makes the decision `brake`',
  },
  leadStoppedSpeed: {
    default: 0.5,
    min: 0,
    max: 5,
    unit: 'm/s',
    doc: 'a lead slower than this is stopped (decision `brake`)',
  },
  leadDecelDeadband: {
    default: 1,
    min: 0,
    max: 5,
    unit: 'm/s²',
    doc: 'object decelerations weaker than this are treated as 0 (estimation noise)',
  },

  laneHalfWidthM: {
    default: 1.8,
    min: 0.5,
    max: 5,
    unit: 'm',
    doc: 'an object whose centre is this close to the predicted path is in the ego lane (ACC lead)',
  },
  corridorMarginM: {
    default: 0.2,
    min: 0,
    max: 2,
    unit: 'm',
    doc: 'added to the ego half width for the collision corridor (AEB)',
  },
  cutInHorizonS: {
    default: 3,
    min: 0,
    max: 10,
    unit: 's',
    doc: 'an object predicted to enter the lane within this becomes the lead',
  },
  cutInMinLateralSpeed: {
    default: 0.3,
    min: 0,
    max: 5,
    unit: 'm/s',
    doc: 'an object must move toward the lane at least this fast to count as entering it',
  },
  collisionHorizonS: {
    default: 4,
    min: 0.5,
    max: 10,
    unit: 's',
    doc: 'objects moving into the corridor are predicted (constant velocity) this far ahead',
  },

  minExistence: { default: 0.5, min: 0, max: 1, doc: 'tracks below this existence probability are ignored' },
  trustMinAgeS: {
    default: 0.5,
    min: 0,
    max: 5,
    unit: 's',
    doc: 'a track’s lateral velocity is used (cut-in, crossing) only for a classified road user and once its track is this old…; AEB reacts to a moving unclassified object only once its track is this old',
  },
  trustLateralSigmas: {
    default: 2.5,
    min: 0,
    max: 10,
    doc: '…and only when it exceeds this many standard deviations of its estimate (track covariance)',
  },
  lateralTrustNeedsLidar: {
    default: true,
    doc: 'a track’s lateral velocity is used only once the lidar has seen the object (camera range errors move camera-only tracks sideways); false for rigs without a lidar',
  },
  unclassifiedMinSpeedMps: {
    default: 3,
    min: 0,
    max: 20,
    unit: 'm/s',
    doc: 'an object the camera has not classified as a road user is an ACC lead or an AEB threat only when moving at least this fast (guard rails, signs and clutter are not braked for)',
  },
  minClosingSpeedMps: {
    default: 0.5,
    min: 0,
    max: 5,
    unit: 'm/s',
    doc: 'an object in the path is closing (has a TTC) only above this closing speed, or when it brakes',
  },
  maxCurvature: {
    default: 0.2,
    min: 0,
    max: 1,
    unit: '1/m',
    doc: 'path curvature (yaw rate / speed) is clamped to this',
  },
  minSpeedForCurvature: {
    default: 1,
    min: 0,
    max: 10,
    unit: 'm/s',
    doc: 'below this speed the path is straight',
  },

  maxEgoSpeedMps: {
    default: 70,
    min: 1,
    max: 150,
    unit: 'm/s',
    doc: 'odometry speed above this (or below -1) is implausible',
  },
  maxEgoYawRate: {
    default: 1.5,
    min: 0.1,
    max: 10,
    unit: 'rad/s',
    doc: 'odometry yaw rate beyond this is implausible',
  },
  egoTimeoutS: {
    default: 0.2,
    min: 0,
    max: 2,
    unit: 's',
    doc: 'with implausible odometry, plan on the last plausible record for at most this long (reason `ego_stale`), then publish no plan (`ego_invalid`)',
  },
  maxTrackRangeM: {
    default: 300,
    min: 10,
    max: 2000,
    unit: 'm',
    doc: 'tracks farther than this from the ego are implausible and ignored',
  },
  maxTrackSpeedMps: {
    default: 90,
    min: 1,
    max: 300,
    unit: 'm/s',
    doc: 'tracks faster than this are implausible and ignored',
  },

  ttcWarnS: {
    default: 2.6,
    min: 0.1,
    max: 10,
    unit: 's',
    doc: 'AEB: forward collision warning below this time to collision',
  },
  ttcPartialS: {
    default: 1.6,
    min: 0.1,
    max: 10,
    unit: 's',
    doc: 'AEB: partial braking below this time to collision',
  },
  ttcFullS: {
    default: 0.9,
    min: 0.1,
    max: 10,
    unit: 's',
    doc: 'AEB: full braking below this time to collision',
  },
  partialBrakeAccel: { default: -4, min: -15, max: -0.5, unit: 'm/s²', doc: 'AEB partial braking command' },
  fullBrakeAccel: {
    default: -9,
    min: -15,
    max: -0.5,
    unit: 'm/s²',
    doc: 'AEB full braking command (the most negative command there is)',
  },
  partialBrakeRequiredDecel: {
    default: 4,
    min: 0,
    max: 15,
    unit: 'm/s²',
    doc: 'after the warning, partial braking starts once avoiding needs more deceleration than this',
  },
  fullBrakeRequiredDecel: {
    default: 5,
    min: 0,
    max: 15,
    unit: 'm/s²',
    doc: 'during partial braking, full braking starts once avoiding needs more deceleration than this',
  },
  aebMinSpeed: { default: 1, min: 0, max: 20, unit: 'm/s', doc: 'AEB activates only above this ego speed' },
  aebMinExistence: { default: 0.8, min: 0, max: 1, doc: 'AEB reacts only to tracks at least this certain' },
  aebJerkMax: {
    default: 30,
    min: 1,
    max: 200,
    unit: 'm/s³',
    doc: 'limit on the rate of change of the command while AEB brakes (brake build-up)',
  },
  aebHoldS: {
    default: 0.5,
    min: 0,
    max: 3,
    unit: 's',
    doc: 'AEB keeps braking this long after its threat is lost (a missed detection, a track restarted)',
  },

  egoFrontM: {
    default: 3.7,
    min: 0,
    max: 20,
    unit: 'm',
    doc: 'ego front bumper ahead of base_link (rear axle centre)',
  },
  egoRearM: { default: 1, min: 0, max: 20, unit: 'm', doc: 'ego rear bumper behind base_link' },
  egoHalfWidthM: { default: 0.95, min: 0.3, max: 2, unit: 'm', doc: 'half the ego width' },

  trajectoryHorizonS: { default: 3, min: 0, max: 10, unit: 's', doc: 'planned trajectory horizon' },
  trajectoryStepS: { default: 0.1, min: 0.01, max: 1, unit: 's', doc: 'planned trajectory step' },
} as const;

/** One planner parameter's entry in PLANNING_PARAMS. */
export interface PlanningParam {
  default: number | boolean;
  min?: number;
  max?: number;
  unit?: string;
  doc: string;
}

/** The planner's configuration, every field of PLANNING_PARAMS (see there for units and meaning). */
export type PlanningSpec = {
  -readonly [K in keyof typeof PLANNING_PARAMS]: (typeof PLANNING_PARAMS)[K]['default'] extends boolean
    ? boolean
    : number;
};

/** spec.planning when the spec says nothing. */
export const DEFAULT_PLANNING: Readonly<PlanningSpec> = Object.freeze(
  Object.fromEntries(Object.entries(PLANNING_PARAMS).map(([k, p]) => [k, p.default])) as PlanningSpec,
);
