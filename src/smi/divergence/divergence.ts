/**
 * Divergence of two versions of a stage run on the same inputs (a TrafficSplit's shadow or
 * canary against the primary): per output frame, tracks are matched by position (greedy nearest
 * pair within a gate; track ids of two trackers mean nothing to each other), then matched
 * tracks' position and velocity differences, tracks only one side has, and plan decisions that
 * disagree are accumulated. Pure and allocation-free per frame: the tracker thread runs it live,
 * `replay --report` and offline tools over recorded outputs (`divergenceReport`).
 */
import { TRACK } from '../../wire/layouts.js';

/** One output frame's tracks: `count` TRACK records (TRACKS_LAYOUT) from `tracks`. */
export interface TrackList {
  tracks: Float32Array;
  count: number;
}

/** What of a plan is compared: its decision and command. */
export interface PlanSummary {
  decision: string;
  targetAccel: number;
}

export interface DivergenceReport {
  /** Output frames compared. */
  frames: number;
  /** Frames in which anything differed (an unmatched track, a decision, a difference over the thresholds). */
  framesDiffering: number;
  /** Track pairs matched, summed over frames. */
  matchedTracks: number;
  /** Tracks only the primary / only the other version had, summed over frames. */
  onlyPrimary: number;
  onlyOther: number;
  /** Matched tracks' position difference, m. */
  position: { mean: number; rms: number; max: number };
  /** Matched tracks' velocity difference, m/s. */
  velocity: { mean: number; rms: number; max: number };
  /** Plans compared and those whose decision differs. */
  plans: number;
  decisionsDiffering: number;
  /** |targetAccel difference| of compared plans, m/s². */
  targetAccel: { mean: number; max: number };
  /** Up to 8 examples of differing decisions: frame index and both decisions. */
  decisionExamples: { frame: number; primary: string; other: string }[];
}

export interface DivergenceOptions {
  /** Tracks farther apart than this are not the same object, m. Default 2. */
  matchGateM?: number;
  /** A matched pair differing by more than these makes its frame count as differing. */
  positionThresholdM?: number;
  velocityThresholdMps?: number;
}

const MAX_EXAMPLES = 8;

export class DivergenceAccumulator {
  private readonly gate2: number;
  private readonly posThreshold: number;
  private readonly velThreshold: number;
  private usedA = new Uint8Array(64);
  private usedB = new Uint8Array(64);
  private frames = 0;
  private framesDiffering = 0;
  private matched = 0;
  private onlyA = 0;
  private onlyB = 0;
  private posSum = 0;
  private posSq = 0;
  private posMax = 0;
  private velSum = 0;
  private velSq = 0;
  private velMax = 0;
  private plans = 0;
  private decisionsDiffering = 0;
  private accelSum = 0;
  private accelMax = 0;
  private readonly examples: DivergenceReport['decisionExamples'] = [];

  constructor(options: DivergenceOptions = {}) {
    const gate = options.matchGateM ?? 2;
    this.gate2 = gate * gate;
    this.posThreshold = options.positionThresholdM ?? 0.5;
    this.velThreshold = options.velocityThresholdMps ?? 0.5;
  }

  /** Adds one output frame of both versions (plans optional: a frame without a plan compares tracks only). */
  add(primary: TrackList, other: TrackList, primaryPlan?: PlanSummary, otherPlan?: PlanSummary): void {
    const a = primary.tracks;
    const b = other.tracks;
    const na = primary.count;
    const nb = other.count;
    if (this.usedA.length < na) this.usedA = new Uint8Array(na * 2);
    if (this.usedB.length < nb) this.usedB = new Uint8Array(nb * 2);
    this.usedA.fill(0, 0, na);
    this.usedB.fill(0, 0, nb);
    const S = TRACK.stride;
    let differing = false;
    let pairs = 0;
    // Greedy: repeatedly take the closest unmatched pair within the gate (n ≤ a few hundred).
    for (;;) {
      let best = this.gate2;
      let bi = -1;
      let bj = -1;
      for (let i = 0; i < na; i++) {
        if (this.usedA[i]) continue;
        const ax = a[i * S + TRACK.x]!;
        const ay = a[i * S + TRACK.y]!;
        for (let j = 0; j < nb; j++) {
          if (this.usedB[j]) continue;
          const dx = b[j * S + TRACK.x]! - ax;
          const dy = b[j * S + TRACK.y]! - ay;
          const d2 = dx * dx + dy * dy;
          if (d2 <= best) {
            best = d2;
            bi = i;
            bj = j;
          }
        }
      }
      if (bi < 0) break;
      this.usedA[bi] = 1;
      this.usedB[bj] = 1;
      pairs++;
      const dp = Math.sqrt(best);
      const dvx = b[bj * S + TRACK.vx]! - a[bi * S + TRACK.vx]!;
      const dvy = b[bj * S + TRACK.vy]! - a[bi * S + TRACK.vy]!;
      const dv = Math.sqrt(dvx * dvx + dvy * dvy);
      this.posSum += dp;
      this.posSq += dp * dp;
      if (dp > this.posMax) this.posMax = dp;
      this.velSum += dv;
      this.velSq += dv * dv;
      if (dv > this.velMax) this.velMax = dv;
      if (dp > this.posThreshold || dv > this.velThreshold) differing = true;
    }
    this.matched += pairs;
    this.onlyA += na - pairs;
    this.onlyB += nb - pairs;
    if (pairs < na || pairs < nb) differing = true;
    if (primaryPlan && otherPlan) {
      this.plans++;
      const da = Math.abs(primaryPlan.targetAccel - otherPlan.targetAccel);
      this.accelSum += da;
      if (da > this.accelMax) this.accelMax = da;
      if (primaryPlan.decision !== otherPlan.decision) {
        this.decisionsDiffering++;
        differing = true;
        if (this.examples.length < MAX_EXAMPLES) {
          this.examples.push({
            frame: this.frames,
            primary: primaryPlan.decision,
            other: otherPlan.decision,
          });
        }
      }
    }
    if (differing) this.framesDiffering++;
    this.frames++;
  }

  report(): DivergenceReport {
    const m = this.matched || 1;
    const p = this.plans || 1;
    const r3 = (x: number): number => Math.round(x * 1000) / 1000;
    return {
      frames: this.frames,
      framesDiffering: this.framesDiffering,
      matchedTracks: this.matched,
      onlyPrimary: this.onlyA,
      onlyOther: this.onlyB,
      position: { mean: r3(this.posSum / m), rms: r3(Math.sqrt(this.posSq / m)), max: r3(this.posMax) },
      velocity: { mean: r3(this.velSum / m), rms: r3(Math.sqrt(this.velSq / m)), max: r3(this.velMax) },
      plans: this.plans,
      decisionsDiffering: this.decisionsDiffering,
      targetAccel: { mean: r3(this.accelSum / p), max: r3(this.accelMax) },
      decisionExamples: this.examples.slice(),
    };
  }
}

/**
 * The divergence of two sequences of output frames, paired by index (frame i of each comes
 * from the same inputs). Plans are optional; when given, the shorter of the plan sequences is compared.
 */
export function divergenceReport(
  primary: readonly TrackList[],
  other: readonly TrackList[],
  primaryPlans: readonly (PlanSummary | undefined)[] = [],
  otherPlans: readonly (PlanSummary | undefined)[] = [],
  options?: DivergenceOptions,
): DivergenceReport {
  if (primary.length !== other.length) {
    throw new RangeError(`divergenceReport: ${primary.length} primary frames against ${other.length} others`);
  }
  const acc = new DivergenceAccumulator(options);
  for (let i = 0; i < primary.length; i++) acc.add(primary[i]!, other[i]!, primaryPlans[i], otherPlans[i]);
  return acc.report();
}
