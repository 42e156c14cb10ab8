// Control-plane propagation delay: a spec file saved -> the first frame the pipeline handles
// under the new generation. The service runs in this process with its controller watching the
// spec file (FusionService's `control` option, what `smi-fusion run --pipeline FILE` does); each
// save changes the tracker's budget (a live change), and the controller's apply record says when
// the tracker thread first handled a frame under the new generation. Both instants are on the
// wall clock every thread shares here (performance.timeOrigin + performance.now()).
import { mkdtempSync, openSync, writeSync, fsyncSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dist } from './dist.mjs';
import { HistogramSet } from './histograms.mjs';

/** The adapter: start / generation / firstFrameUnder / stop over a FusionService with its controller. */
export async function loadControlPlane() {
  const { FusionService } = await import(dist('service/fusion-service.js'));
  const { loadPipelineSpec } = await import(dist('smi/spec/pipeline-spec.js'));
  const { createLogger } = await import(dist('telemetry/logger.js'));
  return {
    async start(specFile) {
      const service = await FusionService.start(loadPipelineSpec(specFile), {
        log: createLogger('error'),
        control: { paths: [specFile], host: '127.0.0.1', port: 0 },
      });
      const status = () => service.controller.status();
      return {
        generation: () => status().generation,
        async firstFrameUnder(gen, timeoutMs) {
          const until = Date.now() + timeoutMs;
          while (Date.now() < until) {
            const a = status().applies.find((r) => r.generation >= gen && r.firstFrameAtMs !== undefined);
            if (a) return a.firstFrameAtMs * 1e6;
            await new Promise((r) => setTimeout(r, 1));
          }
          throw new Error(`propagation: generation ${gen} had no frame within ${timeoutMs} ms`);
        },
        stop: () => service.stop(),
      };
    },
  };
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
  return (performance.timeOrigin + performance.now()) * 1e6; // ns on the threads' shared wall clock
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
  // Steady state: the first second has the simulator and stage threads starting.
  await new Promise((r) => setTimeout(r, 1000));
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
