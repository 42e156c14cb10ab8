import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FusionService } from './fusion-service.js';
import { loadSpecSet, type PipelineSpec } from '../smi/spec/pipeline-spec.js';
import { createLogger } from '../telemetry/logger.js';
import { egoRecord, radarTarget, sensorFrame } from '../test-support/frames.js';
import { waitFor } from '../test-support/output-collector.js';
import type { IngestFn } from '../sensors/source.js';
import type { ServiceStatus } from './service-status.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const log = createLogger('silent');
const dirs: string[] = [];
const services: FusionService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.stop()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Ego and front radar, fed by the test; the tracker budget and a tracker parameter are what reloads change. */
const pipelineText = (
  budgetMs: number,
  gate: number,
  extra = '',
): string => `apiVersion: smi-fusion.dev/v1alpha1
kind: Pipeline
metadata:
  name: ctl
spec:
  sensors:
    - { id: radar_front, kind: radar, rateHz: 100, mount: { x: 3.7, z: 0.5 }, fovDeg: 20, rangeM: 200 }
    - { id: ego, kind: ego, rateHz: 100 }
  outputs:
    publish: tcp://127.0.0.1:*
    metrics: { enabled: false }
  scheduler:
    threadPriorities: false
  stages:
    - name: tracker
      budgetMs: ${budgetMs}
      params: { gateChi2Dim2: ${gate} }
${extra}`;

interface Harness {
  service: FusionService;
  dir: string;
  file: string;
  /** Critical frames sent so far. */
  sent(): number;
  stop(): Promise<void>;
}

/** A live service watching `dir`, fed ego + radar every 5 ms (200 critical frames a second). */
async function start(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'smi-ctl-'));
  dirs.push(dir);
  const file = join(dir, 'pipeline.yaml');
  writeFileSync(file, pipelineText(15, 11.83));
  const spec: PipelineSpec = loadSpecSet([dir]);
  spec.sources = [];
  const box: { ingest?: IngestFn } = {};
  const service = await FusionService.start(spec, {
    log,
    extraSources: [
      (ingest) => {
        box.ingest = ingest;
        return { start: async () => {}, stop: async () => {} };
      },
    ],
    control: {
      paths: [dir],
      prepare: (s) => {
        s.sources = [];
      },
      host: '127.0.0.1',
      port: 0,
    },
  });
  services.push(service);
  let sent = 0;
  let i = 0;
  const timer = setInterval(() => {
    const stamp = process.hrtime.bigint();
    box.ingest!(sensorFrame('ego', 'ego', i, stamp, egoRecord(20, i * 0.1)), stamp);
    box.ingest!(sensorFrame('radar', 'radar_front', i, stamp, radarTarget(40, 0)), stamp);
    sent += 2;
    i++;
  }, 5);
  return {
    service,
    dir,
    file,
    sent: () => sent,
    stop: async () => {
      clearInterval(timer);
      await service.scheduler.whenIdle();
    },
  };
}

const statusOf = (h: Harness): ServiceStatus => h.service.status();
const tracker = (h: Harness) =>
  h.service.scheduler.telemetry.status().stages.find((s) => s.name === 'tracker')!;

describe('control plane', () => {
  it('a hot reload changes a budget and a tracker parameter mid-run without losing a critical frame', async () => {
    const h = await start();
    await waitFor(() => tracker(h).frames > 100, 5000, 'frames under generation 1');
    writeFileSync(h.file, pipelineText(25, 9.21));
    await waitFor(() => statusOf(h).status.observedGeneration === 2, 5000, 'generation 2');
    await waitFor(
      () => statusOf(h).status.applies.at(-1)?.propagationMs !== undefined,
      5000,
      'the first frame under it',
    );
    await new Promise((r) => setTimeout(r, 200));
    await h.stop();
    const st = statusOf(h).status;
    expect(st.generation).toBe(2);
    const record = st.applies.at(-1)!;
    expect(record.result).toBe('Applied');
    expect(record.changes).toEqual([
      'spec.stages[tracker].budgetMs: 15 → 25',
      'spec.stages[tracker].params.gateChi2Dim2',
    ]);
    expect(record.propagationMs).toBeGreaterThan(0);
    expect(h.service.graph.stages.find((s) => s.name === 'tracker')!.budgetMs).toBe(25);
    expect(h.service.current.stages.find((s) => s.name === 'tracker')!.params).toEqual({
      gateChi2Dim2: 9.21,
    });
    // Every critical frame sent was committed and fused: none lost across the reload.
    const t = tracker(h);
    expect(h.service.ingest.rejectedCount + h.service.ingest.droppedCount).toBe(0);
    expect(t.frames).toBe(h.sent());
    expect(Object.values(t.shed).reduce((a, b) => a + b, 0)).toBe(0);
  }, 30_000);

  it('an invalid reload, a restart-needing one and a deleted file leave the running generation; an atomic rename applies', async () => {
    const h = await start();
    await waitFor(() => tracker(h).frames > 50, 5000, 'frames');
    // Unknown field and a bad value: refused with file, line, path.
    writeFileSync(
      h.file,
      pipelineText(15, -3).replace('threadPriorities: false', 'threadPriorities: false\n    bogus: 1'),
    );
    await waitFor(() => statusOf(h).status.applies.length >= 1, 5000, 'the refusal');
    let st = statusOf(h).status;
    expect(st.applies.at(-1)!.result).toBe('Invalid');
    expect(st.applies.at(-1)!.message).toMatch(/pipeline\.yaml:14: spec\.scheduler\.bogus: unknown field/);
    expect(st.observedGeneration).toBe(1);
    expect(st.conditions.find((c) => c.type === 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'InvalidSpec',
    });
    expect(st.conditions.find((c) => c.type === 'Ready')!.status).toBe('True');
    // A new sensor rate needs a restart.
    writeFileSync(h.file, pipelineText(15, 11.83).replace('rateHz: 100, mount', 'rateHz: 50, mount'));
    await waitFor(() => statusOf(h).status.applies.length >= 2, 5000, 'the second refusal');
    st = statusOf(h).status;
    expect(st.applies.at(-1)!.result).toBe('RestartRequired');
    expect(st.applies.at(-1)!.message).toMatch(
      /needs a restart \(the running generation 1 stays\): spec\.sensors/,
    );
    // Valid field by field, refused by the tracker as a whole (3 of 5 needs confirmHits <= confirmWindow).
    writeFileSync(
      h.file,
      pipelineText(15, 11.83).replace('gateChi2Dim2: 11.83', 'gateChi2Dim2: 11.83, confirmHits: 9'),
    );
    await waitFor(() => statusOf(h).status.applies.length >= 3, 5000, 'the tracker refusal');
    st = statusOf(h).status;
    expect(st.applies.at(-1)!.result).toBe('Failed');
    expect(st.applies.at(-1)!.message).toMatch(
      /refused by the pipeline: .*confirmHits \(9\) <= confirmWindow \(5\)/,
    );
    expect(st.observedGeneration).toBe(1);
    expect(h.service.current.stages.find((s) => s.name === 'tracker')!.params).toEqual({
      gateChi2Dim2: 11.83,
    });
    // Deleted: the set has no Pipeline.
    rmSync(h.file);
    await waitFor(() => statusOf(h).status.applies.length >= 4, 5000, 'the deletion');
    expect(statusOf(h).status.applies.at(-1)!.result).toBe('Invalid');
    expect(statusOf(h).status.observedGeneration).toBe(1);
    const before = tracker(h).frames;
    // Written elsewhere and renamed into place (how editors and config tools save).
    const tmp = join(h.dir, '.pipeline.yaml.tmp');
    writeFileSync(tmp, pipelineText(30, 11.83));
    renameSync(tmp, h.file);
    await waitFor(() => statusOf(h).status.observedGeneration === 2, 5000, 'generation 2');
    st = statusOf(h).status;
    // The controller's own condition (status adds overload and sensor health on top).
    expect(h.service.controller!.status().conditions.find((c) => c.type === 'Degraded')!.status).toBe(
      'False',
    );
    expect(h.service.graph.stages.find((s) => s.name === 'tracker')!.budgetMs).toBe(30);
    // The pipeline ran on throughout.
    expect(tracker(h).frames).toBeGreaterThan(before);
    await h.stop();
    expect(tracker(h).frames).toBe(h.sent());
  }, 30_000);

  it('smi-fusion status shows generation and conditions; apply -f adds a TrafficSplit; exit codes say the outcome', async () => {
    const h = await start();
    const endpoint = `http://127.0.0.1:${h.service.controlPort}`;
    // Exit 0 when Ready and not Degraded, else 1 (a loaded machine can put the pipeline in overload).
    const json = await run(process.execPath, [CLI, 'status', '--json', '--endpoint', endpoint]).then(
      (r) => ({ ...r, code: 0 }),
      (e: { stdout: string; code: number }) => e,
    );
    const s = JSON.parse(json.stdout) as ServiceStatus;
    expect(s.kind).toBe('PipelineStatus');
    expect(s.status.observedGeneration).toBe(1);
    expect(s.status.conditions.map((c) => c.type)).toEqual(['Ready', 'Degraded']);
    expect(s.status.conditions[0]!.status).toBe('True');
    expect(json.code).toBe(s.status.conditions[1]!.status === 'True' ? 1 : 0);
    const table = await run(process.execPath, [CLI, 'status', '--endpoint', endpoint]).catch(
      (e: { stdout: string }) => e,
    );
    expect(table.stdout).toMatch(/^pipeline ctl {2}generation 1 {2}observedGeneration 1/);
    expect(table.stdout).toMatch(/\nReady +True +Running/);
    expect(table.stdout).toMatch(/\ntracker +critical +15 /);
    const split = join(h.dir, 'canary.split');
    writeFileSync(
      split,
      'apiVersion: smi-fusion.dev/v1alpha1\nkind: TrafficSplit\nmetadata: { name: canary }\nspec:\n  stage: tracker\n  mode: canary\n  backends:\n    - { version: v1, weight: 80 }\n    - { version: v2, weight: 20, params: { gateChi2Dim2: 9.21 } }\n',
    );
    const applied = await run(process.execPath, [CLI, 'apply', '-f', split, '--endpoint', endpoint]);
    expect(applied.stdout).toMatch(
      /^Applied \(generation 2\): generation 2: TrafficSplit: none → canary \(canary tracker: 80\/20\)/,
    );
    const after = JSON.parse(
      (
        await run(process.execPath, [CLI, 'status', '--json', '--endpoint', endpoint]).catch(
          (e: { stdout: string }) => e,
        )
      ).stdout,
    ) as ServiceStatus;
    expect(after.status.observedGeneration).toBe(2);
    expect(after.status.splits[0]).toMatchObject({ name: 'canary', weights: { v1: 80, v2: 20 } });
    expect(after.status.stages.find((x) => x.name === 'tracker')!.version).toBe('v1 80% / v2 20%');
    // A bad split is refused (exit 1), the generation stays.
    writeFileSync(
      split,
      'apiVersion: smi-fusion.dev/v1alpha1\nkind: TrafficSplit\nmetadata: { name: canary }\nspec:\n  stage: tracker\n  mode: canary\n  backends:\n    - { version: v1, weight: 80 }\n    - { version: v2, weight: 30 }\n',
    );
    const refused = await run(process.execPath, [CLI, 'apply', '-f', split, '--endpoint', endpoint]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((refused as { code: number }).code).toBe(1);
    expect((refused as { stderr: string }).stderr).toMatch(
      /^Invalid: .*canary\.split:\d+ \(document 1\)|^Invalid: .*weights sum to 110/m,
    );
    expect(h.service.status().status.observedGeneration).toBe(2);
    // Nobody there: exit 3.
    await h.stop();
    await h.service.stop();
    const gone = await run(process.execPath, [CLI, 'status', '--endpoint', endpoint]).catch(
      (e: { code: number }) => e,
    );
    expect((gone as { code: number }).code).toBe(3);
  }, 60_000);
});
