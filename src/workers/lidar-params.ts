import { DEFAULT_LIDAR_CLUSTERER_CONFIG, type LidarClustererConfig } from '../fusion/lidar-clusterer.js';

/** The degraded run's clusterer: the stage's params on a grid twice as coarse (at least 0.5 m). */
export function coarserParams(params: Partial<LidarClustererConfig>): Partial<LidarClustererConfig> {
  const cell = params.cellSizeM ?? DEFAULT_LIDAR_CLUSTERER_CONFIG.cellSizeM;
  return { ...params, cellSizeM: Math.max(0.5, cell * 2) };
}
