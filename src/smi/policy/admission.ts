/**
 * Whether a frame starts, degraded or not, or is shed before it uses the CPU (DESIGN.md: shed from
 * the bottom up, before work starts), and the overload level that drives class-wide shedding.
 */

/** Overload levels: each sheds one more class, bottom up. */
export const OVERLOAD = {
  /** Nothing shed for load (late frames are still shed on their own deadline). */
  none: 0,
  /** Best-effort frames are shed. */
  shedBestEffort: 1,
  /** Best-effort and normal frames are shed. */
  shedNormal: 2,
  /** As 2, and high-class frames run degraded (lidar: coarser grid, fewer points). */
  degradeHigh: 3,
} as const;

export type AdmitDecision = 'run' | 'degrade' | 'shed-deadline' | 'shed-overload';

export interface AdmitInput {
  /** 0 critical, 1 high, 2 normal, 3 best-effort. */
  classRank: number;
  deadlineNs: number;
  nowNs: number;
  /** Expected run time at full quality, ns (0 when unknown). */
  costNs: number;
  /** Expected run time degraded, ns; undefined when the stage cannot degrade. */
  degradedCostNs: number | undefined;
  overload: number;
  /** Frames of this stage shed or degraded on their deadline since its last full run (StageCostModel.sinceFullRun). */
  sinceFullRun?: number;
}

/**
 * After this many frames in a row shed or degraded on their deadline, the next one runs at full
 * quality anyway: a cost estimate learned in a bad moment (a cold JIT, a preempted run) would
 * otherwise shed or degrade every frame from then on, since those frames never run at full
 * quality and so never correct it. The probe is counted like any frame (a miss if it is late).
 */
export const PROBE_AFTER = 8;

/**
 * Critical frames always run (late ones are counted as misses when they finish). Others are shed
 * when their class is shed by the overload level, degraded when high and the level says so, and
 * shed (or degraded, when that still makes it) when they can no longer finish by their deadline.
 */
export function admit(f: AdmitInput): AdmitDecision {
  if (f.classRank === 0) return 'run';
  if (f.classRank === 3 && f.overload >= OVERLOAD.shedBestEffort) return 'shed-overload';
  if (f.classRank === 2 && f.overload >= OVERLOAD.shedNormal) return 'shed-overload';
  const degradeForLoad = f.classRank === 1 && f.overload >= OVERLOAD.degradeHigh;
  const probe = (f.sinceFullRun ?? 0) >= PROBE_AFTER;
  if (!degradeForLoad && (f.nowNs + f.costNs <= f.deadlineNs || probe)) return 'run';
  if (f.degradedCostNs !== undefined && f.nowNs + f.degradedCostNs <= f.deadlineNs) return 'degrade';
  return 'shed-deadline';
}

/**
 * Overload level from the critical class's slack: every critical frame reports its latency against
 * its budget. A window (100 ms) is bad when a critical frame missed, or when more than `tolerance`
 * of its frames (at least two) used more than `raiseAt` of the budget: one late frame on a busy
 * machine is noise, a run of them is load. Two bad windows in a row raise the level one step; it
 * falls one step after `calmWindows` windows in a row in which at most `tolerance` of the frames
 * used more than `lowerAt` (a single slow frame must not hold the shedding in place forever).
 */
export class OverloadGovernor {
  private level: number = OVERLOAD.none;
  private frames = 0;
  private slow = 0;
  private aboveLower = 0;
  private missed = false;
  private bad = 0;
  private calm = 0;
  private windowStartNs = -1;
  /** Times the level was raised. */
  raises = 0;

  constructor(
    private readonly windowNs = 100_000_000,
    private readonly raiseAt = 0.5,
    private readonly lowerAt = 0.25,
    private readonly calmWindows = 10,
    private readonly tolerance = 0.05,
  ) {}

  /** A critical frame finished `latencyNs` after its stamp, with `budgetNs` allowed. */
  observe(latencyNs: number, budgetNs: number): void {
    const ratio = latencyNs / budgetNs;
    this.frames++;
    if (ratio > this.raiseAt) this.slow++;
    if (ratio > this.lowerAt) this.aboveLower++;
    if (ratio > 1) this.missed = true;
  }

  /** Advances the window clock; returns the level in force. */
  tick(nowNs: number): number {
    if (this.windowStartNs < 0) this.windowStartNs = nowNs;
    if (nowNs - this.windowStartNs < this.windowNs) return this.level;
    const badWindow = this.missed || (this.slow >= 2 && this.slow > this.tolerance * this.frames);
    if (badWindow) {
      this.calm = 0;
      if (++this.bad >= 2 && this.level < OVERLOAD.degradeHigh) {
        this.level++;
        this.raises++;
        this.bad = 0;
      }
    } else {
      this.bad = 0;
      if (this.aboveLower <= this.tolerance * this.frames) {
        if (++this.calm >= this.calmWindows && this.level > OVERLOAD.none) {
          this.level--;
          this.calm = 0;
        }
      } else {
        this.calm = 0;
      }
    }
    this.frames = 0;
    this.slow = 0;
    this.aboveLower = 0;
    this.missed = false;
    this.windowStartNs = nowNs;
    return this.level;
  }

  get current(): number {
    return this.level;
  }
}

/**
 * Expected run time of a stage, learned online as fixed + per-unit cost (units: points of a scan,
 * objects of a list; 1 when size does not matter), by exponentially weighted least squares over
 * its recent runs. A scan of one point says nothing about one of 260,000, so until runs of
 * different sizes are seen it predicts the mean cost (scaled by size only near the sizes seen:
 * shedding acts on evidence, not on extrapolation), and it claims nothing (0) before `minSamples`
 * runs.
 */
export class StageCostModel {
  private w = 0;
  private sx = 0;
  private sy = 0;
  private sxx = 0;
  private sxy = 0;
  private samples = 0;

  constructor(
    private readonly alpha = 0.1,
    private readonly minSamples = 3,
  ) {}

  /** Frames shed or degraded on their deadline since the last full-quality run (see PROBE_AFTER). */
  sinceFullRun = 0;

  /** A frame was shed or degraded on its deadline, on this model's estimate. */
  noteNotRun(): void {
    this.sinceFullRun++;
  }

  /** A run took `ns` for an input of `units`. */
  observe(ns: number, units = 1): void {
    this.sinceFullRun = 0;
    const x = Math.max(1, units);
    const keep = 1 - this.alpha;
    this.w = this.w * keep + 1;
    this.sx = this.sx * keep + x;
    this.sy = this.sy * keep + ns;
    this.sxx = this.sxx * keep + x * x;
    this.sxy = this.sxy * keep + x * ns;
    this.samples++;
  }

  /** Expected ns for `units`; 0 until trained. */
  expected(units = 1): number {
    if (!this.trained) return 0;
    const x = Math.max(1, units);
    const mx = this.sx / this.w;
    const my = this.sy / this.w;
    const varX = this.sxx / this.w - mx * mx;
    // A slope needs sizes that differ: over scans within a few per cent of each other, timing
    // noise alone would make it anything (2 ms over 50 points of 100,000 is 40 µs a point).
    if (varX > 0.01 * mx * mx) {
      const b = Math.max(0, (this.sxy / this.w - mx * my) / varX);
      const a = Math.max(0, my - b * mx);
      return a + b * x;
    }
    return x <= 2 * mx ? (my / mx) * x : my;
  }

  get trained(): boolean {
    return this.samples >= this.minSamples;
  }
}
