/** CLOCK_MONOTONIC in nanoseconds: the time base of every stamp in the pipeline. */
export const monotonicNs = (): bigint => process.hrtime.bigint();

/** Difference of two monotonic stamps in nanoseconds, as a number (exact below ~104 days). */
export const elapsedNs = (fromNs: bigint, toNs: bigint): number => Number(toNs - fromNs);
