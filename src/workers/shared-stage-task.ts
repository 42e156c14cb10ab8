/**
 * Piscina task entry for stages placed on the shared pool (`placement: shared`). Today that is
 * lidar extraction: cluster one scan read in place from the pool and return its boxes (the main
 * thread commits them). Stateless, so any pool thread can run any scan.
 */
import { CLUSTER, LidarClusterer, type LidarClustererConfig } from '../fusion/lidar-clusterer.js';
import { coarserParams } from './lidar-params.js';
import type { Mount } from '../wire/mount.js';
import { LIDAR } from '../wire/layouts.js';
import { setThreadClass } from './thread-priority.js';

// Shared-pool threads run high-class work (lidar extraction), whatever they inherited.
setThreadClass(1);

export interface ClusterTask {
  sab: SharedArrayBuffer;
  /** Byte offset and length of the scan's payload in the pool. */
  offset: number;
  length: number;
  mount: Mount;
  degrade: boolean;
  /** The lidar-extraction stage's params; a task with other params than the last rebuilds the clusterers. */
  params: Partial<LidarClustererConfig>;
  /** Changes whenever `params` change (a hot reload), so the check costs nothing per scan. */
  paramsGeneration: number;
}

export interface ClusterResult {
  startNs: bigint;
  endNs: bigint;
  boxes: Float32Array;
  count: number;
}

let full = new LidarClusterer();
let coarse = new LidarClusterer(coarserParams({}));
let paramsGeneration = -1;
const out = new Float32Array(512 * CLUSTER.stride);

export default function clusterScan(task: ClusterTask): ClusterResult {
  const startNs = process.hrtime.bigint();
  if (task.paramsGeneration !== paramsGeneration) {
    full = new LidarClusterer(task.params);
    coarse = new LidarClusterer(coarserParams(task.params));
    paramsGeneration = task.paramsGeneration;
  }
  const points = new Float32Array(task.sab, task.offset, task.length >> 2);
  const count = task.length / (LIDAR.stride * 4);
  const n = (task.degrade ? coarse : full).cluster(points, count, task.mount, out);
  return { startNs, endNs: process.hrtime.bigint(), boxes: out.slice(0, n * CLUSTER.stride), count: n };
}
