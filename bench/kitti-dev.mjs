// Tracks the KITTI tracking dev sequences (0001 0006 0008 0010 0012) from AB3DMOT's PointRCNN
// Car detections and scores them by KITTI's Car rules (3D IoU >= 0.25, every output counted):
// smi-fusion's tracker (fed exactly as the service feeds it from an imported drive) and the
// constant-velocity baseline, side by side. Data are read from --data DIR (label_02/, calib/,
// det_pointrcnn_car/, extracted from github:xinshuoweng/AB3DMOT; never committed).
//   node bench/kitti-dev.mjs --data /work/data/kitti [--config '{"objectsBirthMinScore":0.6}'] [--json FILE]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseCalibFile, parseDetectionFile, parseTrackingFile } from '../dist/io/kitti-format.js';
import { cameraMount } from '../dist/io/kitti-geometry.js';
import { detectionRecords, kittiPipeline, KITTI_FRAME_NS } from '../dist/io/kitti-drive.js';
import { KittiTrackExport } from '../dist/io/kitti-export.js';
import { kittiSequence } from '../dist/io/kitti-evaluation.js';
import { MultiSensorTracker } from '../dist/fusion/multi-sensor-tracker.js';
import { evaluateMot, KITTI_MATCH } from '../dist/metrics/index.js';
import { TRACK } from '../dist/wire/layouts.js';
import { runCvBaseline } from './kitti-cv-baseline.mjs';

const DEV = ['0001', '0006', '0008', '0010', '0012'];
const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '/work/data/kitti' },
    config: { type: 'string', default: '{}' },
    sequences: { type: 'string', default: DEV.join(',') },
    json: { type: 'string' },
    quiet: { type: 'boolean', default: false },
  },
});
const sequences = values.sequences.split(',');
for (const s of sequences) {
  // The held-out validation sequences are never run here.
  if (Number(s) >= 13 && Number(s) <= 19) throw new Error(`sequence ${s} is held out`);
}
const config = JSON.parse(values.config);

function runTracker(name, detections, calib) {
  const spec = kittiPipeline(name, cameraMount(calib));
  const tracker = new MultiSensorTracker(spec.sensors, { maxTracks: spec.fusion.maxTracks, ...config });
  const exp = new KittiTrackExport(
    { sequence: name, mount: spec.sensors[0].mount, P2: calib.P2, frameNs: KITTI_FRAME_NS, startNs: 0n },
    '/dev/null',
  );
  const frames = Math.max(-1, ...detections.map((d) => d.frame)) + 1;
  const byFrame = Array.from({ length: frames }, () => []);
  for (const d of detections) byFrame[d.frame].push(d);
  const logit = detections.some((d) => !(d.score >= 0 && d.score <= 1));
  const ego = new Float64Array(6);
  const out = new Float32Array(spec.fusion.maxTracks * TRACK.stride);
  for (let f = 0; f < frames; f++) {
    const stamp = BigInt(f) * KITTI_FRAME_NS;
    tracker.ingestEgo(ego, stamp);
    const rec = detectionRecords(byFrame[f], logit);
    tracker.ingestObjects(0, rec, byFrame[f].length, stamp);
    const n = tracker.writeTracks(stamp, out);
    exp.add(stamp, out, n);
  }
  return exp.results();
}

const seqs = { 'smi-fusion': [], 'cv-baseline': [] };
for (const name of sequences) {
  const labels = parseTrackingFile(
    readFileSync(join(values.data, 'label_02', `${name}.txt`), 'utf8'),
    `${name}.txt`,
  );
  const detections = parseDetectionFile(
    readFileSync(join(values.data, 'det_pointrcnn_car', `${name}.txt`), 'utf8'),
    `${name}.txt`,
  );
  const calib = parseCalibFile(
    readFileSync(join(values.data, 'calib', `${name}.txt`), 'utf8'),
    `${name}.txt`,
  );
  seqs['smi-fusion'].push(kittiSequence(name, labels, runTracker(name, detections, calib)));
  seqs['cv-baseline'].push(kittiSequence(name, labels, runCvBaseline(detections)));
}

const rows = {};
const pct = (v) => (100 * v).toFixed(2);
console.log(
  `KITTI tracking val, dev sequences ${sequences.join(' ')}: Car, 3D IoU >= 0.25, every output counted`,
);
console.log(
  'tracker        MOTA   MOTP   HOTA   DetA   AssA  sAMOTA  AMOTA   IDSW  FRAG    FP    FN    TP    GT  MT  ML',
);
for (const [name, list] of Object.entries(seqs)) {
  const e = evaluateMot(list, KITTI_MATCH);
  rows[name] = e;
  const c = e.clear;
  console.log(
    `${name.padEnd(12)} ${pct(c.mota).padStart(6)} ${pct(c.motp).padStart(6)} ${pct(e.hota.hota).padStart(6)} ${pct(e.hota.detA).padStart(6)} ${pct(e.hota.assA).padStart(6)} ${pct(e.samota.samota).padStart(7)} ${pct(e.samota.amota).padStart(6)} ${String(c.idsw).padStart(6)} ${String(c.frag).padStart(5)} ${String(c.fp).padStart(5)} ${String(c.fn).padStart(5)} ${String(c.tp).padStart(5)} ${String(c.gt).padStart(5)} ${String(c.mt).padStart(3)} ${String(c.ml).padStart(3)}`,
  );
  if (!values.quiet) {
    for (const s of list) {
      const one = evaluateMot([s], KITTI_MATCH);
      console.log(
        `  ${s.name}        ${pct(one.clear.mota).padStart(6)} ${pct(one.clear.motp).padStart(6)} ${pct(one.hota.hota).padStart(6)}                ${pct(one.samota.samota).padStart(7)}        ${String(one.clear.idsw).padStart(6)} ${String(one.clear.frag).padStart(5)} ${String(one.clear.fp).padStart(5)} ${String(one.clear.fn).padStart(5)}`,
      );
    }
  }
}
if (values.json) writeFileSync(values.json, JSON.stringify(rows, null, 2));
