/**
 * A SHA-256 per output topic over every message's topic, header (without `publishedNs`, the host's
 * clock) and payload: two runs that publish the same tracks and plans, byte for byte, digest the
 * same (openpilot's process replay keeps reference outputs so). A ServiceOptions.outputTap.
 */
import { createHash, type Hash } from 'node:crypto';
import { decodeHeader } from '../wire/codec.js';

/** Digest of one run's outputs. */
export interface DriveDigest {
  trackLists: number;
  plans: number;
  tracks: string;
  plan: string;
}

/** A header as canonical text: keys sorted, bigints as decimals, without publishedNs. */
function canonicalHeader(bytes: Uint8Array): string {
  const h = decodeHeader(bytes) as Record<string, unknown>;
  delete h.publishedNs;
  const sorted = Object.fromEntries(
    Object.keys(h)
      .sort()
      .map((k) => [k, h[k]]),
  );
  return JSON.stringify(sorted, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

export class OutputDigest {
  private readonly tracks: Hash = createHash('sha256');
  private readonly plan: Hash = createHash('sha256');
  private trackLists = 0;
  private plans = 0;

  /** ServiceOptions.outputTap. */
  readonly tap = (parts: readonly Uint8Array[]): void => {
    const topic = Buffer.from(parts[0]!).toString();
    const h = topic === 'out/tracks' ? this.tracks : topic === 'out/plan' ? this.plan : undefined;
    if (!h) return;
    if (h === this.tracks) this.trackLists++;
    else this.plans++;
    h.update(topic);
    h.update(canonicalHeader(parts[1]!));
    if (parts[2]) h.update(parts[2]);
  };

  /** The digests so far (call once, at the end). */
  result(): DriveDigest {
    return {
      trackLists: this.trackLists,
      plans: this.plans,
      tracks: this.tracks.digest('hex'),
      plan: this.plan.digest('hex'),
    };
  }
}
