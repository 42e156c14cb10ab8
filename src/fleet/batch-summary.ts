/**
 * What one `replay-batch` shard writes beside its drive reports (`batch-I-of-N.json`): which
 * drives the shard held, which failed, how fast it went. Merging reads these to check that the
 * shards together cover the list once.
 */
import type { Shard } from './shard.js';

export const BATCH_FORMAT = 'smi-fusion/batch@1';

export interface BatchSummary {
  format: typeof BATCH_FORMAT;
  version: string;
  shard: Shard;
  /** Drives in the whole (unsharded) list. */
  drivesInList: number;
  /** Names of this shard's drives. */
  drives: string[];
  failed: { name: string; why: string }[];
  jobs: number;
  wallSeconds: number;
  drivesPerHour: number;
  /** Digest of the candidate's spec, or null without one. */
  candidate: string | null;
}

export function batchFileName(shard: Shard): string {
  return `batch-${shard.index}-of-${shard.count}.json`;
}
