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

  /** Multiplies the dim×dim noise R in place by k (k <= 1 leaves it); returns this. */
  scaleNoise(dim: number, k: number): this {
    const R = this.R;
    if (k > 1) for (let i = 0; i < dim * dim; i++) R[i] = R[i]! * k;
    return this;
  }
}
