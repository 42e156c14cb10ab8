import type { PlanHeaderFields } from '../wire/header.js';
import { AEB_STAGES, PLAN_LAYOUT } from '../wire/layouts.js';
import type { PlanResult } from './planner.js';

/** An `out/plan` message's plan-specific header fields and its payload. */
export interface PlanOutput {
  header: PlanHeaderFields;
  /** The trajectory's PLAN_LAYOUT records, a view of `trajectory` (no copy). */
  payload: Uint8Array;
}

/**
 * The `out/plan` header fields and trajectory payload for a planner result: the one place that
 * maps the planner's result onto the wire, so every publisher says the same. `trajectory` holds
 * (at least) the result's `pointCount` PLAN_LAYOUT points.
 */
export function planOutput(result: PlanResult, trajectory: Float32Array): PlanOutput {
  const count = result.pointCount;
  return {
    header: {
      frame: 'base_link',
      fields: PLAN_LAYOUT.fields,
      stride: PLAN_LAYOUT.stride,
      count,
      decision: result.decision,
      leadId: result.leadId,
      targetAccel: result.targetAccel,
      ttc: result.ttc,
      aebStage: AEB_STAGES[result.aebStage] ?? 'none',
      threatId: result.threatId,
      gap: result.gap,
      requiredDecel: result.requiredDecel,
      reason: result.reason,
    },
    payload: new Uint8Array(trajectory.buffer, trajectory.byteOffset, count * PLAN_LAYOUT.stride),
  };
}
