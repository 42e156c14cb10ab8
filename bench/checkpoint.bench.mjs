// Tracker state checkpoint bench: `npm run build && node bench/checkpoint.bench.mjs`. Measures
// the cost of one TrackerStateBlock.save (tracker snapshot with its track table and odometry
// history, planner state, thread scalars, into the inactive bank of a SharedArrayBuffer, then
// published) for maxTracks 64, 256 (the default) and 1024, side by side with its parts and with
// the in-process checkpoint StampOrderedFusion takes per frame (saveCheckpoint). A save copies
// whole arrays, so its cost depends on maxTracks, not on how many tracks are live; the tracker
// here holds a few real tracks from a short radar drive anyway. Also reports the heap growth over
// all saves of a case (nothing should be allocated per save; run with node --expose-gc so the
// heap is collected first and the figure means something). Prints a table, writes
// bench/results/checkpoint.json. Options: --quick (fewer saves).
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BENCH_DIR, dist } from './lib/dist.mjs';

const { TrackerStateBlock, createTrackerThreadState } = await import(dist('workers/tracker-state-block.js'));
const { MultiSensorTracker } = await import(dist('fusion/multi-sensor-tracker.js'));
const { Planner } = await import(dist('planning/planner.js'));
const { TypedArrayArena } = await import(dist('pool/typed-array-arena.js'));
const { DEFAULT_RIG } = await import(dist('wire/rig.js'));
const { EGO, RADAR } = await import(dist('wire/layouts.js'));

const quick = process.argv.includes('--quick');
const SAVES = quick ? 2_000 : 20_000;
const WARM = 5_000;
const RADAR_INDEX = DEFAULT_RIG.findIndex((s) => s.kind === 'radar');

/** A tracker with a few confirmed tracks: 2 s of odometry and front-radar scans of three cars. */
function warmTracker(maxTracks) {
  const t = new MultiSensorTracker(DEFAULT_RIG, { maxTracks });
  const ego = new Float64Array(EGO.stride);
  const dets = new Float32Array(3 * RADAR.stride);
  for (let k = 0; k < 40; k++) {
    const stamp = BigInt(k) * 50_000_000n;
    ego[EGO.x] = 15 * k * 0.05;
    ego[EGO.speed] = 15;
    t.ingestEgo(ego, stamp);
    for (let j = 0; j < 3; j++) {
      const o = j * RADAR.stride;
      dets[o + RADAR.range] = 30 + 10 * j - 0.15 * k;
      dets[o + RADAR.azimuth] = 0.05 * (j - 1);
      dets[o + RADAR.rangeRate] = -3;
      dets[o + RADAR.rcs] = 10;
    }
    t.ingestRadar(RADAR_INDEX, dets, 3, stamp + 10_000_000n);
  }
  return t;
}

/** Mean µs per call of fn over n calls (after warm-up), and the heap growth over them (bytes). */
function time(fn, n) {
  for (let i = 0; i < WARM; i++) fn();
  globalThis.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  const ns = Number(process.hrtime.bigint() - t0);
  return { us: ns / n / 1e3, heapGrowth: process.memoryUsage().heapUsed - heap0 };
}

const rows = [];
for (const maxTracks of [64, 256, 1024]) {
  const tracker = warmTracker(maxTracks);
  const planner = new Planner();
  const layout = { maxTracks, sensors: DEFAULT_RIG, inputs: 8 };
  const block = TrackerStateBlock.create(layout);
  const thread = createTrackerThreadState(8);
  const m = TypedArrayArena.measuring();
  tracker.createSnapshot(m);
  const sab = new SharedArrayBuffer(m.bytesUsed);
  const snap = tracker.createSnapshot(TypedArrayArena.over(sab, 0, m.bytesUsed));
  const psnap = planner.createSnapshot();
  const cp = tracker.createCheckpoint();
  const save = time(() => {
    thread.tracksSeq++;
    block.save(tracker, planner, thread);
  }, SAVES);
  const restoreInto = warmTracker(maxTracks);
  const restorePlanner = new Planner();
  const restore = time(() => block.restore(restoreInto, restorePlanner, thread), SAVES);
  rows.push({
    maxTracks,
    liveTracks: tracker.stats.activeTracks,
    blockBytes: block.sab.byteLength,
    saveUs: save.us,
    saveHeapGrowth: save.heapGrowth,
    restoreUs: restore.us,
    trackerSnapshotUs: time(() => tracker.saveSnapshot(snap), SAVES).us,
    plannerSnapshotUs: time(() => planner.saveSnapshot(psnap), SAVES).us,
    inProcessCheckpointUs: time(() => tracker.saveCheckpoint(cp), SAVES).us,
  });
}

const f = (v) => v.toFixed(2).padStart(8);
console.log(
  `TrackerStateBlock.save, ${SAVES} saves per case (µs per call)${globalThis.gc ? '' : '; heap growth is noisy without --expose-gc'}`,
);
console.log('maxTracks  live  block KB    save  restore  tracker  planner  checkpoint  heap growth per save');
for (const r of rows) {
  console.log(
    `${String(r.maxTracks).padStart(9)} ${String(r.liveTracks).padStart(5)} ${(r.blockBytes / 1024).toFixed(1).padStart(9)} ` +
      `${f(r.saveUs)} ${f(r.restoreUs)} ${f(r.trackerSnapshotUs)} ${f(r.plannerSnapshotUs)} ${f(r.inProcessCheckpointUs).padStart(11)}  ${(r.saveHeapGrowth / SAVES).toFixed(1)} B`,
  );
}
mkdirSync(resolve(BENCH_DIR, 'results'), { recursive: true });
writeFileSync(
  resolve(BENCH_DIR, 'results/checkpoint.json'),
  JSON.stringify({ node: process.version, saves: SAVES, rows }, null, 2),
);
