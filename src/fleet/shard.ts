/**
 * Sharding without coordination: shard I of N takes every drive whose place in the list sorted by
 * name is I modulo N. Each machine sorts the same names, so N machines that each take their own
 * index cover every drive exactly once, with no shared state; round-robin keeps shards of similar
 * size when drive names cluster (a day's drives are adjacent).
 */
import type { DriveRef } from './drive-list.js';

export interface Shard {
  index: number;
  count: number;
}

/** A bad shard, naming the value and what is allowed. */
export class ShardError extends Error {}

function integer(text: string, what: string): number {
  if (!/^\d+$/.test(text.trim())) throw new ShardError(`${what} '${text}' is not a whole number`);
  return Number(text);
}

/** Checks a shard: count ≥ 1, index 0..count−1. */
export function checkShard(index: number, count: number, from: string): Shard {
  if (!(count >= 1 && count <= 1_000_000))
    throw new ShardError(`${from}: shard count ${count}: allowed 1 to 1000000`);
  if (!(index >= 0 && index < count))
    throw new ShardError(`${from}: shard index ${index} is outside 0..${count - 1} (of ${count} shards)`);
  return { index, count };
}

/** `--shard I/N` (0-based I). */
export function parseShard(text: string): Shard {
  const m = /^\s*([^/]+)\/([^/]+)\s*$/.exec(text);
  if (!m) throw new ShardError(`--shard '${text}': expected I/N, e.g. 0/4 (index from 0)`);
  return checkShard(integer(m[1]!, '--shard index'), integer(m[2]!, '--shard count'), `--shard ${text}`);
}

/**
 * `--shards N` with the index from JOB_COMPLETION_INDEX, which a Kubernetes Indexed Job sets in
 * each pod (0..completions−1).
 */
export function shardFromEnv(count: number, env: NodeJS.ProcessEnv = process.env): Shard {
  const raw = env.JOB_COMPLETION_INDEX;
  if (raw === undefined)
    throw new ShardError(
      `--shards ${count}: JOB_COMPLETION_INDEX is not set (a Kubernetes Indexed Job sets it; else use --shard I/N)`,
    );
  return checkShard(
    integer(raw, 'JOB_COMPLETION_INDEX'),
    count,
    `--shards ${count} with JOB_COMPLETION_INDEX=${raw}`,
  );
}

/** The drives of one shard, in name order. */
export function selectShard(drives: readonly DriveRef[], shard: Shard): DriveRef[] {
  const sorted = [...drives].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return sorted.filter((_d, i) => i % shard.count === shard.index);
}
