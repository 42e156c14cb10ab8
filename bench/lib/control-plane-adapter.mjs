// Control-plane propagation delay: a spec file saved -> the first frame the pipeline handles
// under the new generation. The measurement is written against the small adapter below; the
// controller itself (hot reload of a watched spec, `smi-fusion apply`, `status --json` with
// observedGeneration) is another issue's work. Until it is present this reports
// "not measured: control plane not present".
//
// ============================== CONTROL-PLANE ADAPTER ==============================
// To be wired at merge with the controller. `loadControlPlane()` returns undefined when there is
// no controller, else an object with:
//   start(specFile) -> Promise<handle>         run the service on a spec that is watched
//   handle.generation() -> number              the generation in effect (observedGeneration)
//   handle.firstFrameUnder(gen, timeoutMs)     resolves with the CLOCK_MONOTONIC ns at which the
//        -> Promise<number>                    first frame was handled under generation >= gen
//   handle.stop() -> Promise<void>
// ===================================================================================
import { mkdtempSync, openSync, writeSync, fsyncSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dist } from './dist.mjs';
import { HistogramSet } from './histograms.mjs';

/** Where the controller is expected in dist/ (adjust at merge). */
const CONTROLLER_MODULE = 'smi/controller/index.js';

export async function loadControlPlane() {
  let mod;
  try {
    mod = await import(dist(CONTROLLER_MODULE));
  } catch {
    return undefined;
  }
  // Adapter body: map the controller's API onto start / generation / firstFrameUnder / stop.
  return typeof mod.benchControlPlane === 'function' ? mod.benchControlPlane() : undefined;
}

/** A spec whose only change between saves is the tracker's budget (a live, harmless change). */
function specText(budgetMs) {
  return [
    'apiVersion: smi-fusion.dev/v1alpha1',
    'kind: Pipeline',
    'metadata: { name: bench-propagation }',
    'spec:',
    `  outputs: { publish: 'tcp://127.0.0.1:*', metrics: { enabled: false } }`,
    `  pool: { segment: /smi-bench-prop-${process.pid} }`,
    `  stages: [{ name: tracker, budgetMs: ${budgetMs} }]`,
    '',
  ].join('\n');
}

function save(file, text) {
  const fd = openSync(file, 'w');
  writeSync(fd, text);
  fsyncSync(fd);
  closeSync(fd);
  return Number(process.hrtime.bigint());
}

/** { measured: true, latency } or { measured: false, reason }. */
export async function measurePropagation({ quick = false, controlPlane } = {}) {
  const cp = controlPlane ?? (await loadControlPlane());
  if (!cp) return { measured: false, reason: 'control plane not present' };
  const dir = mkdtempSync(join(tmpdir(), 'smi-bench-prop-'));
  const file = join(dir, 'pipeline.yaml');
  const h = new HistogramSet();
  save(file, specText(15));
  const handle = await cp.start(file);
  try {
    const changes = quick ? 10 : 50;
    for (let i = 1; i <= changes; i++) {
      const next = handle.generation() + 1;
      const savedNs = save(file, specText(15 + (i % 2)));
      const effectNs = await handle.firstFrameUnder(next, 2000);
      h.record('propagation', effectNs - savedNs);
      await new Promise((r) => setTimeout(r, 50)); // let the watcher settle between saves
    }
  } finally {
    await handle.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return { measured: true, latency: h.summaries().propagation };
}
