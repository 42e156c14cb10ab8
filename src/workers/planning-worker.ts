/** Piscina worker running the planner (lead selection, ACC, AEB, trajectory) on each track list. */
import { Planner, type PlanResult } from '../planning/planner.js';
import { PLAN_POINT } from '../wire/layouts.js';
import type { PlanTask, PlanTaskResult } from './fusion-task.js';

const HORIZON_POINTS = 64;
let planner: Planner | undefined;
let cruise = NaN;
const result: PlanResult = { decision: 'cruise', leadId: -1, targetAccel: 0, ttc: -1, pointCount: 0 };
const trajectory = new Float32Array(HORIZON_POINTS * PLAN_POINT.stride);

export default function runPlanning(task: PlanTask): PlanTaskResult {
  const startNs = process.hrtime.bigint();
  if (!planner || task.cruiseSpeedMps !== cruise) {
    planner = new Planner({ cruiseSpeedMps: task.cruiseSpeedMps });
    cruise = task.cruiseSpeedMps;
  }
  planner.plan(task.tracks, task.count, task.ego, result, trajectory);
  const points = trajectory.slice(0, result.pointCount * PLAN_POINT.stride);
  // Results are a few KB: structured clone costs less than a transfer list would save.
  return {
    startNs,
    endNs: process.hrtime.bigint(),
    decision: result.decision,
    leadId: result.leadId,
    targetAccel: result.targetAccel,
    ttc: result.ttc,
    trajectory: points,
    pointCount: result.pointCount,
  };
}
