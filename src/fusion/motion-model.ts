import { ObjectClass } from '../wire/layouts.js';
import { S } from './track-table.js';

/**
 * Motion models of tracks, per class. All share the state of TrackTable (odom frame: position,
 * velocity over ground, acceleration, yaw rate):
 * - `turn` (cars, trucks, cyclists): coordinated turn with acceleration; velocity and
 *   acceleration rotate at the yaw rate ω, which is estimated (a vehicle follows an arc, CTRA);
 * - `constant-velocity` (pedestrians): no acceleration state, white-noise acceleration; ω = 0;
 * - `constant-acceleration` (unknown objects): white-noise jerk; ω = 0.
 */
export const MotionModel = { turn: 0, constantVelocity: 1, constantAcceleration: 2 } as const;
export type MotionModelId = (typeof MotionModel)[keyof typeof MotionModel];

/** The motion model of a class (ObjectClass). */
export function motionModelOf(classId: number): MotionModelId {
  switch (classId) {
    case ObjectClass.car:
    case ObjectClass.truck:
    case ObjectClass.cyclist:
      return MotionModel.turn;
    case ObjectClass.pedestrian:
      return MotionModel.constantVelocity;
    default:
      return MotionModel.constantAcceleration;
  }
}

/** sin θ / θ and (1 − cos θ) / θ with their derivatives, by series near 0 (smooth in θ). */
function turnTerms(theta: number, out: Float64Array): void {
  const t2 = theta * theta;
  if (Math.abs(theta) < 1e-3) {
    out[0] = 1 - t2 / 6;
    out[1] = theta / 2 - (theta * t2) / 24;
    out[2] = -theta / 3 + (theta * t2) / 30;
    out[3] = 0.5 - t2 / 8;
    return;
  }
  const s = Math.sin(theta);
  const c = Math.cos(theta);
  out[0] = s / theta;
  out[1] = (1 - c) / theta;
  out[2] = (theta * c - s) / t2;
  out[3] = (theta * s - (1 - c)) / t2;
}

const terms = new Float64Array(4);

/**
 * Fills the 7×7 Jacobian F (row-major) of the coordinated-turn-with-acceleration transition over
 * dt at state x (offset o) and writes the predicted state into x in place. With ω = 0 it is the
 * constant-acceleration model.
 */
export function turnTransition(x: Float64Array, o: number, dt: number, F: Float64Array): void {
  const N = S.dim;
  const vx = x[o + S.vx]!;
  const vy = x[o + S.vy]!;
  const ax = x[o + S.ax]!;
  const ay = x[o + S.ay]!;
  const w = x[o + S.w]!;
  const th = w * dt;
  turnTerms(th, terms);
  const A = dt * terms[0]!; // ∫ cos(ωτ) dτ over [0, dt]
  const B = dt * terms[1]!; // ∫ sin(ωτ) dτ
  const dA = dt * dt * terms[2]!; // ∂A/∂ω
  const dB = dt * dt * terms[3]!;
  const c = Math.cos(th);
  const s = Math.sin(th);
  // The acceleration acts over the step at the mid-step heading.
  const c2 = Math.cos(0.5 * th);
  const s2 = Math.sin(0.5 * th);
  const h = 0.5 * dt * dt;
  const hd = 0.5 * dt; // ∂(θ/2)/∂ω
  F.fill(0);
  for (let i = 0; i < N; i++) F[i * N + i] = 1;
  // Position.
  F[S.x * N + S.vx] = A;
  F[S.x * N + S.vy] = -B;
  F[S.x * N + S.ax] = h * c2;
  F[S.x * N + S.ay] = -h * s2;
  F[S.x * N + S.w] = dA * vx - dB * vy + h * hd * (-s2 * ax - c2 * ay);
  F[S.y * N + S.vx] = B;
  F[S.y * N + S.vy] = A;
  F[S.y * N + S.ax] = h * s2;
  F[S.y * N + S.ay] = h * c2;
  F[S.y * N + S.w] = dB * vx + dA * vy + h * hd * (c2 * ax - s2 * ay);
  // Velocity.
  F[S.vx * N + S.vx] = c;
  F[S.vx * N + S.vy] = -s;
  F[S.vx * N + S.ax] = dt * c2;
  F[S.vx * N + S.ay] = -dt * s2;
  F[S.vx * N + S.w] = dt * (-s * vx - c * vy) + dt * hd * (-s2 * ax - c2 * ay);
  F[S.vy * N + S.vx] = s;
  F[S.vy * N + S.vy] = c;
  F[S.vy * N + S.ax] = dt * s2;
  F[S.vy * N + S.ay] = dt * c2;
  F[S.vy * N + S.w] = dt * (c * vx - s * vy) + dt * hd * (c2 * ax - s2 * ay);
  // Acceleration turns with the vehicle.
  F[S.ax * N + S.ax] = c;
  F[S.ax * N + S.ay] = -s;
  F[S.ax * N + S.w] = dt * (-s * ax - c * ay);
  F[S.ay * N + S.ax] = s;
  F[S.ay * N + S.ay] = c;
  F[S.ay * N + S.w] = dt * (c * ax - s * ay);

  x[o + S.x] = x[o + S.x]! + A * vx - B * vy + h * (c2 * ax - s2 * ay);
  x[o + S.y] = x[o + S.y]! + B * vx + A * vy + h * (s2 * ax + c2 * ay);
  x[o + S.vx] = c * vx - s * vy + dt * (c2 * ax - s2 * ay);
  x[o + S.vy] = s * vx + c * vy + dt * (s2 * ax + c2 * ay);
  x[o + S.ax] = c * ax - s * ay;
  x[o + S.ay] = s * ax + c * ay;
}

/**
 * Predicted state of a track dt seconds ahead under its motion model, without touching the
 * table (for output): position, velocity, acceleration and yaw rate into out[0..S.dim).
 */
export function predictStateInto(
  x: Float64Array,
  o: number,
  dt: number,
  model: MotionModelId,
  out: Float64Array,
  scratch: Float64Array,
): void {
  for (let i = 0; i < S.dim; i++) out[i] = x[o + i]!;
  if (model === MotionModel.constantVelocity) {
    out[S.ax] = 0;
    out[S.ay] = 0;
  }
  if (model !== MotionModel.turn) out[S.w] = 0;
  turnTransition(out, 0, dt, scratch);
}
