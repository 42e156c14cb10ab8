import {
  DEFAULT_PLANNING,
  PLANNING_PARAMS,
  planningIssues,
  type PlanningParam,
  type PlanningSpec,
} from '../smi/spec/pipeline-spec.js';

/**
 * Tuning of the planner: exactly the pipeline spec's `spec.planning` (PLANNING_PARAMS in
 * src/smi/spec/pipeline-spec.ts lists every field with its default, range, unit and meaning).
 * Units: metres, seconds, m/s, m/s². Ego geometry is measured from base_link (rear axle centre),
 * as the tracks are.
 */
export type PlannerConfig = PlanningSpec;

export const DEFAULT_PLANNER_CONFIG: Readonly<PlannerConfig> = DEFAULT_PLANNING;

/**
 * Throws naming every parameter outside its range and every relation between parameters that
 * does not hold (the spec's checks, for configurations built in code).
 */
export function checkPlannerConfig(c: Readonly<PlannerConfig>): void {
  const issues = planningIssues(c);
  for (const [name, p] of Object.entries(PLANNING_PARAMS as Record<string, PlanningParam>)) {
    const v = (c as Record<string, number | boolean>)[name];
    const ok =
      typeof p.default === 'boolean'
        ? typeof v === 'boolean'
        : typeof v === 'number' && v >= (p.min ?? -Infinity) && v <= (p.max ?? Infinity);
    if (!ok) {
      const range = typeof p.default === 'boolean' ? 'true or false' : `a number in [${p.min}, ${p.max}]`;
      issues.push({ path: name, message: `${String(v)} is not allowed; expected ${range}` });
    }
  }
  if (issues.length > 0) {
    throw new Error(`Planner: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
}
