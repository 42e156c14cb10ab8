/**
 * The pool, chosen at run time: a shared-memory segment driven by the native ring when the addon
 * is available, else the pure-JS ring over an in-process SharedArrayBuffer. Both speak the one
 * protocol of native/LAYOUT.md.
 */
import type { ChannelGeometry } from './layout.js';
import { nativeAddon, nativeLoadError } from './native-addon.js';
import { SlotPool } from './slot-pool.js';

export * from './slot-pool.js';
export { LAYOUT_VERSION, type AccessPattern, type ChannelGeometry, type ChannelPlacement } from './layout.js';
export { nativeAddon, nativeLoadError } from './native-addon.js';

export const POOL_IMPLEMENTATIONS = ['auto', 'native', 'js'] as const;
export type PoolChoice = (typeof POOL_IMPLEMENTATIONS)[number];

export interface OpenedPool {
  pool: SlotPool;
  /** Why `auto` fell back to the JS ring over an in-process buffer; undefined when it did not. */
  fallback?: string;
}

/**
 * Creates the service's pool. `native` insists on the shared-memory segment (an error if it
 * cannot be had); `js` is the in-process pure-JS ring; `auto` tries native and falls back.
 */
export function openPool(
  channels: readonly ChannelGeometry[],
  choice: { segment: string; implementation: PoolChoice },
): OpenedPool {
  if (choice.implementation === 'js') return { pool: SlotPool.create(channels) };
  if (choice.implementation === 'native') return { pool: SlotPool.createNative(choice.segment, channels) };
  if (!nativeAddon()) {
    return { pool: SlotPool.create(channels), fallback: `native addon unavailable: ${nativeLoadError()}` };
  }
  try {
    return { pool: SlotPool.createNative(choice.segment, channels) };
  } catch (err) {
    return { pool: SlotPool.create(channels), fallback: (err as Error).message };
  }
}
