/**
 * Tuning of the planner. Units: metres, seconds, m/s, m/s². Ego geometry is measured from
 * base_link (rear axle centre), as the tracks are.
 */
export interface PlannerConfig {
  /** ACC set speed. */
  cruiseSpeedMps: number;
  /** Whether ACC controls the speed; off, the planner only intervenes for AEB (driver drives). */
  accEnabled: boolean;

  /** Ego body: front bumper ahead of and rear bumper behind base_link, half width. */
  egoFrontM: number;
  egoRearM: number;
  egoHalfWidthM: number;

  /** An object whose centre is within this of the predicted path is in the ego's lane (ACC lead). */
  laneHalfWidthM: number;
  /** Added to the ego's half width for the collision corridor (AEB). */
  corridorMarginM: number;
  /** Objects (pedestrians, cut-ins) predicted to enter the lane within this horizon become leads. */
  cutInHorizonS: number;
  /** Objects must move toward the lane at least this fast (m/s) to count as entering it. */
  cutInMinLateralSpeed: number;
  /** Objects moving into the collision corridor are predicted (constant velocity) this far ahead. */
  collisionHorizonS: number;
  /** Step of that prediction (refined by bisection). */
  predictionStepS: number;
  /** Tracks below this existence probability are ignored. */
  minExistence: number;
  /** Path curvature from yaw rate / speed is clamped to this, 1/m; below minSpeedForCurvature it is 0. */
  maxCurvature: number;
  minSpeedForCurvature: number;

  /** ACC: time gap and standstill gap (bumper to bumper) to the lead. */
  timeGapS: number;
  standstillGapM: number;
  /** ACC comfort limits. */
  accMaxAccel: number;
  accMaxDecel: number;
  /** ACC gains: on the gap error (1/s²), the speed difference to the lead (1/s), the set speed error (1/s). */
  gapGain: number;
  relativeSpeedGain: number;
  cruiseGain: number;
  /** Deceleration held at standstill behind a stopped lead. */
  standstillHoldDecel: number;
  /** Braking harder than this (negative) makes the decision `brake`. */
  brakeDecisionAccel: number;
  /** A lead slower than this is stopped (decision `brake`). */
  leadStoppedSpeed: number;
  /** Lead decelerations weaker than this are treated as 0 (estimation noise). */
  leadDecelDeadband: number;

  /** AEB: time-to-collision thresholds of the warning, partial and full braking stages. */
  ttcWarnS: number;
  ttcPartialS: number;
  ttcFullS: number;
  partialBrakeAccel: number;
  fullBrakeAccel: number;
  /** After the warning, partial braking starts once avoiding needs more deceleration than this. */
  partialBrakeRequiredDecel: number;
  /** In the partial stage, full braking starts once avoiding needs more deceleration than this. */
  fullBrakeRequiredDecel: number;
  /** AEB acts only above this ego speed and on tracks at least this certain. */
  aebMinSpeed: number;
  aebMinExistence: number;

  /** Planned trajectory: horizon and step. */
  trajectoryHorizonS: number;
  trajectoryStepS: number;
}

export const DEFAULT_PLANNER_CONFIG: Readonly<PlannerConfig> = {
  cruiseSpeedMps: 25,
  accEnabled: true,

  egoFrontM: 3.7,
  egoRearM: 1.0,
  egoHalfWidthM: 0.95,

  laneHalfWidthM: 1.8,
  corridorMarginM: 0.2,
  cutInHorizonS: 3,
  cutInMinLateralSpeed: 0.3,
  collisionHorizonS: 4,
  predictionStepS: 0.1,
  minExistence: 0.5,
  maxCurvature: 0.2,
  minSpeedForCurvature: 1,

  timeGapS: 1.8,
  standstillGapM: 4,
  accMaxAccel: 2,
  accMaxDecel: 3.5,
  gapGain: 0.25,
  relativeSpeedGain: 0.8,
  cruiseGain: 0.5,
  standstillHoldDecel: 1,
  brakeDecisionAccel: -2,
  leadStoppedSpeed: 0.5,
  leadDecelDeadband: 1,

  ttcWarnS: 2.6,
  ttcPartialS: 1.6,
  ttcFullS: 0.9,
  partialBrakeAccel: -4,
  fullBrakeAccel: -9,
  partialBrakeRequiredDecel: 4,
  fullBrakeRequiredDecel: 5,
  aebMinSpeed: 1,
  aebMinExistence: 0.8,

  trajectoryHorizonS: 3,
  trajectoryStepS: 0.1,
};
