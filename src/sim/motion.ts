/**
 * Scripted motion as closed-form functions of time, compiled once from a scenario's motion
 * steps. Evaluating them is a short scan over a handful of segments, with no state, so any
 * time can be queried in any order and every run gives the same numbers.
 */

/** A change of speed: from `at` (s), ramp to `to` (m/s) at `rate` (m/s², magnitude). */
export interface SpeedEvent {
  at: number;
  to: number;
  rate: number;
}

/**
 * Speed along the path with piecewise-constant acceleration. Each event starts from the speed
 * at its time and overrides the rest of any ramp still in progress.
 */
export class SpeedProfile {
  private readonly t0: number[] = [];
  private readonly v0: number[] = [];
  private readonly a: number[] = [];
  private readonly x0: number[] = [];

  constructor(initialSpeed: number, events: readonly SpeedEvent[]) {
    this.t0.push(0);
    this.v0.push(initialSpeed);
    this.a.push(0);
    this.x0.push(0);
    for (const e of events) this.apply(e);
  }

  private apply(e: SpeedEvent): void {
    const out = new Float64Array(3);
    this.evaluate(e.at, out);
    const [x, v] = [out[0]!, out[1]!];
    // Drop the segments that start at or after the event: it overrides them.
    while (this.t0.length > 1 && this.t0[this.t0.length - 1]! >= e.at) {
      this.t0.pop();
      this.v0.pop();
      this.a.pop();
      this.x0.pop();
    }
    if (v === e.to) {
      this.push(e.at, v, 0, x);
      return;
    }
    const acc = e.to > v ? e.rate : -e.rate;
    const dt = (e.to - v) / acc;
    this.push(e.at, v, acc, x);
    this.push(e.at + dt, e.to, 0, x + v * dt + 0.5 * acc * dt * dt);
  }

  private push(t0: number, v0: number, a: number, x0: number): void {
    this.t0.push(t0);
    this.v0.push(v0);
    this.a.push(a);
    this.x0.push(x0);
  }

  /** Writes distance travelled since t=0, speed and acceleration at `t` into out[0..2]. */
  evaluate(t: number, out: Float64Array): void {
    let i = this.t0.length - 1;
    while (i > 0 && this.t0[i]! > t) i--;
    const dt = t - this.t0[i]!;
    const a = this.a[i]!;
    const v0 = this.v0[i]!;
    out[0] = this.x0[i]! + v0 * dt + 0.5 * a * dt * dt;
    out[1] = v0 + a * dt;
    out[2] = a;
  }

  /** Speed at `t`. */
  speedAt(t: number): number {
    const out = new Float64Array(3);
    this.evaluate(t, out);
    return out[1]!;
  }
}

/** A lateral move: from `t0` to `t1`, `d` goes to `d1`, smoothly (lane change) or linearly (crossing). */
export interface LateralMove {
  t0: number;
  t1: number;
  d1: number;
  smooth: boolean;
}

/**
 * Lateral offset over time. Moves must not overlap (the scenario loader checks); a lane change
 * follows the minimum-jerk quintic 10τ³ − 15τ⁴ + 6τ⁵, a crossing is walked at constant speed.
 */
export class LateralProfile {
  private readonly t0: number[] = [];
  private readonly t1: number[] = [];
  private readonly d0: number[] = [];
  private readonly d1: number[] = [];
  private readonly smooth: boolean[] = [];

  constructor(
    readonly initial: number,
    moves: readonly LateralMove[],
  ) {
    let d = initial;
    for (const m of moves) {
      this.t0.push(m.t0);
      this.t1.push(m.t1);
      this.d0.push(d);
      this.d1.push(m.d1);
      this.smooth.push(m.smooth);
      d = m.d1;
    }
  }

  /** Writes d and its rate dd/dt at `t` into out[0..1]. */
  evaluate(t: number, out: Float64Array): void {
    let d = this.initial;
    let rate = 0;
    for (let i = 0; i < this.t0.length; i++) {
      const t0 = this.t0[i]!;
      if (t < t0) break;
      const t1 = this.t1[i]!;
      const d0 = this.d0[i]!;
      const d1 = this.d1[i]!;
      if (t >= t1) {
        d = d1;
        continue;
      }
      const span = t1 - t0;
      const tau = (t - t0) / span;
      if (this.smooth[i]) {
        const t2 = tau * tau;
        d = d0 + (d1 - d0) * t2 * tau * (10 - 15 * tau + 6 * t2);
        rate = ((d1 - d0) * 30 * t2 * (1 - 2 * tau + t2)) / span;
      } else {
        d = d0 + (d1 - d0) * tau;
        rate = (d1 - d0) / span;
      }
      break;
    }
    out[0] = d;
    out[1] = rate;
  }
}
