/** Tracking metrics from their published definitions: CLEAR MOT, HOTA, sAMOTA; box overlap. */
export * from './box-overlap.js';
export * from './mot-data.js';
export { clearMot, type ClearMot } from './clear-mot.js';
export { hota, HOTA_ALPHAS, type Hota } from './hota.js';
export { samota, SAMOTA_LEVELS, type SAmota } from './samota.js';
export { evaluateMot, type MotEvaluation } from './evaluate.js';
export { trackBox, truthBox } from './records.js';
