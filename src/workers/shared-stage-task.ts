/**
 * Piscina task entry for stages placed on the shared pool (`placement: shared`). Today that is
 * lidar extraction: cluster one scan read in place from the pool and return its boxes (the main
 * thread commits them). Stateless, so any pool thread can run any scan.
 */
import { CLUSTER, LidarClusterer } from '../fusion/lidar-clusterer.js';
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
}

export interface ClusterResult {
  startNs: bigint;
  endNs: bigint;
  boxes: Float32Array;
  count: number;
}

const full = new LidarClusterer();
const coarse = new LidarClusterer({ cellSizeM: 0.5 });
const out = new Float32Array(512 * CLUSTER.stride);

export default function clusterScan(task: ClusterTask): ClusterResult {
  const startNs = process.hrtime.bigint();
  const points = new Float32Array(task.sab, task.offset, task.length >> 2);
  const count = task.length / (LIDAR.stride * 4);
  const n = (task.degrade ? coarse : full).cluster(points, count, task.mount, out);
  return { startNs, endNs: process.hrtime.bigint(), boxes: out.slice(0, n * CLUSTER.stride), count: n };
}
