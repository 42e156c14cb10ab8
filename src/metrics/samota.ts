/**
 * sAMOTA and AMOTA (Weng et al., "3D Multi-Object Tracking: A Baseline and New Evaluation
 * Metrics", IROS 2020 / AB3DMOT): CLEAR MOT at L = 40 recall levels r = 1/L … 1, each
 * obtained by keeping only tracks scoring at least the threshold that reaches recall r;
 * sMOTA_r = max(0, 1 − (IDSW_r + FP_r + FN_r − (1 − r)·GT) / (r·GT)), averaged over all L
 * levels (a level the tracker cannot reach counts 0). Tied scores can make a threshold reach
 * more than recall r; sMOTA_r is then capped at 1, the top of its range.
 */
import { clearMot, matchFrame } from './clear-mot.js';
import type { MatchRule, MotSequence } from './mot-data.js';

export const SAMOTA_LEVELS = 40;

export interface SAmota {
  samota: number;
  amota: number;
  /** Mean MOTP over the reachable levels. */
  amotp: number;
  /** Highest recall any threshold reaches. */
  maxRecall: number;
}

export function samota(sequences: readonly MotSequence[], rule: MatchRule): SAmota {
  // Scores of the tracks that are true positives when every output is kept.
  const scores: number[] = [];
  let gt = 0;
  for (const seq of sequences) {
    for (const frame of seq.frames) {
      for (const g of frame.gt) if (!g.ignored) gt++;
      const { trackToGt } = matchFrame(rule, frame);
      trackToGt.forEach((g, k) => {
        if (g >= 0 && !frame.gt[g]!.ignored) scores.push(frame.tracks[k]!.score);
      });
    }
  }
  scores.sort((a, b) => b - a);
  const maxRecall = gt > 0 ? scores.length / gt : 0;
  let s = 0;
  let a = 0;
  let p = 0;
  let reached = 0;
  for (let k = 1; k <= SAMOTA_LEVELS && gt > 0; k++) {
    const r = k / SAMOTA_LEVELS;
    const need = Math.ceil(r * gt - 1e-9);
    if (need > scores.length || need < 1) continue;
    const m = clearMot(sequences, rule, scores[need - 1]!);
    const errors = m.idsw + m.fp + m.fn;
    s += Math.min(1, Math.max(0, 1 - (errors - (1 - r) * gt) / (r * gt)));
    a += Math.max(0, 1 - errors / gt);
    p += m.motp;
    reached++;
  }
  return {
    samota: s / SAMOTA_LEVELS,
    amota: a / SAMOTA_LEVELS,
    amotp: reached > 0 ? p / reached : 0,
    maxRecall,
  };
}
