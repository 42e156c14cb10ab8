/**
 * Seeded pseudo-random numbers for the simulator: xoshiro128** (Blackman & Vigna, 2018) with its
 * state filled by splitmix32. Small, fast on 32-bit integer ops (Math.imul), and fully
 * deterministic, so the same scenario and seed always produce byte-identical payloads.
 * Math.random is never used: it cannot be seeded.
 */

const TWO_POW_MINUS_32 = 2.3283064365386963e-10;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** One step of splitmix32: returns the next state and output packed as [state, output]. */
function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [next, (z ^ (z >>> 16)) >>> 0];
}

/** A xoshiro128** generator. Independent streams come from the same seed with different `stream` ids. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  // Box-Muller yields normals in pairs; the second one is kept for the next call.
  private spare = 0;
  private hasSpare = false;

  /**
   * @param seed any 32-bit integer (other numbers are truncated to 32 bits)
   * @param stream stream id; different ids give uncorrelated sequences for the same seed
   */
  constructor(seed: number, stream = 0) {
    let st = (seed ^ Math.imul((stream + 1) | 0, 0x632be5ab)) | 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(st);
      st = next;
      words.push(out);
    }
    [this.a, this.b, this.c, this.d] = words as [number, number, number, number];
    // An all-zero state would stay zero forever; splitmix32 makes it practically impossible, but be sure.
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Builds a generator from an explicit 128-bit state (used to check against the reference vectors). */
  static fromState(a: number, b: number, c: number, d: number): Prng {
    const p = new Prng(0);
    p.a = a | 0;
    p.b = b | 0;
    p.c = c | 0;
    p.d = d | 0;
    return p;
  }

  /** Next unsigned 32-bit integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextU32() * TWO_POW_MINUS_32;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Standard normal N(0, 1), by the Box-Muller transform. */
  gauss(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    // 1 - u is in (0, 1], so the log is finite.
    const r = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    const phi = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(phi);
    this.hasSpare = true;
    return r * Math.cos(phi);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.uniform() < p;
  }

  /** Poisson-distributed count with mean `lambda` (Knuth's method; fine for the small means used here). */
  poisson(lambda: number): number {
    const limit = Math.exp(-lambda);
    let k = 0;
    let prod = this.uniform();
    while (prod > limit) {
      k++;
      prod *= this.uniform();
    }
    return k;
  }
}
