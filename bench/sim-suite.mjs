// The simulated tracking suite: every shipped scenario, open loop, with the built-in rig plus
// the object detector; CLEAR MOT / HOTA with centre matching within 2 m, true objects within 60 m.
//   node bench/sim-suite.mjs [--scenarios a,b] [--config JSON] [--json FILE]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { scoreScenario } from '../dist/service/simulated-tracking.js';

const ALL = [
  'highway-following',
  'cut-in',
  'sensor-dropout',
  'urban-clutter',
  'lead-braking',
  'pedestrian-crossing',
  'stopped-vehicle',
];
const { values } = parseArgs({
  options: {
    scenarios: { type: 'string', default: ALL.join(',') },
    config: { type: 'string', default: '{}' },
    json: { type: 'string' },
  },
});
const tracker = JSON.parse(values.config);
const rows = [];
console.log(
  'scenario              s   MOTA   HOTA  IDSW/100  FP    FN   GT  pos RMSE  vel RMSE  recall (silent/nominal)',
);
for (const name of values.scenarios.split(',')) {
  const r = scoreScenario(name, { tracker });
  rows.push(r);
  const c = r.evaluation.clear;
  console.log(
    `${name.padEnd(20)} ${r.seconds.toFixed(0).padStart(3)} ${c.mota.toFixed(3).padStart(6)} ${r.evaluation.hota.hota.toFixed(3).padStart(6)} ${r.idswPer100.toFixed(2).padStart(8)} ${String(c.fp).padStart(4)} ${String(c.fn).padStart(5)} ${String(c.gt).padStart(5)}  ${r.vehiclePositionRmse.toFixed(3).padStart(7)}   ${r.vehicleVelocityRmse.toFixed(3).padStart(7)}   ${Number.isNaN(r.dropoutRecall) ? '  -  ' : r.dropoutRecall.toFixed(3)}/${r.nominalRecall.toFixed(3)}${r.collisionS !== undefined ? `  (contact at ${r.collisionS.toFixed(1)} s)` : ''}`,
  );
}
if (values.json) writeFileSync(values.json, JSON.stringify(rows, null, 2));
