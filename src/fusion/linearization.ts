import { S } from './track-table.js';

/**
 * One (track, measurement) pair linearised for the EKF: the innovation ν = z - h(x), the Jacobian
 * H (dim×S.dim, row-major) and the measurement noise R (dim×dim), for dim <= 3. A measurement model
 * fills it, the filter reads it; the tracker owns one and reuses it for every pair.
 */
export class Linearization {
  readonly nu = new Float64Array(3);
  readonly H = new Float64Array(3 * S.dim);
  readonly R = new Float64Array(9);
  /**
   * Nonzero when H and R are those of an earlier pair of the same track, unchanged since (a model
   * that predicts once per track sets it): the filter may then reuse that pair's S⁻¹.
   */
  key = 0;
  private keys = 0;

  /** A fresh key for a newly computed H and R. */
  nextKey(): number {
    this.keys = this.keys >= Number.MAX_SAFE_INTEGER ? 1 : this.keys + 1;
    return this.keys;
  }

  /** Multiplies the dim×dim noise R in place by k (k <= 1 leaves it); returns this. */
  scaleNoise(dim: number, k: number): this {
    const R = this.R;
    if (k > 1) {
      for (let i = 0; i < dim * dim; i++) R[i] = R[i]! * k;
      this.key = 0; // no longer the R of any earlier pair
    }
    return this;
  }
}
