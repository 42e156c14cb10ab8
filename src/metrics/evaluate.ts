import { clearMot, type ClearMot } from './clear-mot.js';
import { hota, type Hota } from './hota.js';
import type { MatchRule, MotSequence } from './mot-data.js';
import { samota, type SAmota } from './samota.js';

/** Every metric of a set of sequences under one matching rule. */
export interface MotEvaluation {
  match: MatchRule;
  sequences: number;
  frames: number;
  clear: ClearMot;
  hota: Hota;
  samota: SAmota;
}

export function evaluateMot(sequences: readonly MotSequence[], match: MatchRule): MotEvaluation {
  return {
    match,
    sequences: sequences.length,
    frames: sequences.reduce((n, s) => n + s.frames.length, 0),
    clear: clearMot(sequences, match),
    hota: hota(sequences, match),
    samota: samota(sequences, match),
  };
}
