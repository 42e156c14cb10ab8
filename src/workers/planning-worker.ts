/** Piscina worker running the planner (lead selection, ACC, AEB, trajectory) on each track list. */
import { Planner, createPlanResult } from '../planning/planner.js';
import type { PlanningSpec } from '../smi/spec/pipeline-spec.js';
import { PLAN_POINT } from '../wire/layouts.js';
import type { PlanTask, PlanTaskResult } from './fusion-task.js';

const HORIZON_POINTS = 64;
let planner: Planner | undefined;
const result = createPlanResult();
const trajectory = new Float32Array(HORIZON_POINTS * PLAN_POINT.stride);

function sameConfig(a: Readonly<PlanningSpec>, b: Readonly<PlanningSpec>): boolean {
  for (const k in a) if (a[k as keyof PlanningSpec] !== b[k as keyof PlanningSpec]) return false;
  return true;
}

export default function runPlanning(task: PlanTask): PlanTaskResult {
  const startNs = process.hrtime.bigint();
  if (!planner || !sameConfig(planner.config, task.planning)) planner = new Planner(task.planning);
  planner.plan(task, result, trajectory);
  // Results are a few KB: structured clone costs less than a transfer list would save.
  return {
    startNs,
    endNs: process.hrtime.bigint(),
    result,
    trajectory: trajectory.slice(0, result.pointCount * PLAN_POINT.stride),
  };
}
