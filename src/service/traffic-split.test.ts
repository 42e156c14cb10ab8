import { afterEach, describe, expect, it } from 'vitest';
import { FusionService } from './fusion-service.js';
import { defaultPipelineSpec, withRig, type PipelineSpec } from '../smi/spec/pipeline-spec.js';
import type { SplitSpec } from '../smi/spec/traffic-split.js';
import { DEFAULT_RIG } from '../wire/rig.js';
import { decodeHeader } from '../wire/codec.js';
import { createLogger } from '../telemetry/logger.js';
import { egoRecord, radarTarget, sensorFrame } from '../test-support/frames.js';
import { OutputCollector, waitFor } from '../test-support/output-collector.js';
import type { IngestFn } from '../sensors/source.js';

const log = createLogger('silent');
const services: FusionService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.stop()));
});

/** Ego and front radar only: one output per message in deterministic mode. */
function radarSpec(split: SplitSpec): PipelineSpec {
  const rig = DEFAULT_RIG.filter((s) => s.id === 'radar_front' || s.id === 'ego').map((s) => ({
    ...s,
    mount: { ...s.mount },
  }));
  const spec = withRig(defaultPipelineSpec(), rig);
  spec.sources = [];
  spec.outputs.publish = 'tcp://127.0.0.1:*';
  spec.outputs.metrics.enabled = false;
  spec.scheduler.threadPriorities = false;
  spec.splits = [split];
  return spec;
}

const split = (
  mode: 'canary' | 'shadow',
  stageType: 'tracker' | 'planner',
  params: Record<string, unknown>,
): SplitSpec => ({
  name: `${stageType}-${mode}`,
  stage: stageType,
  stageType,
  mode,
  primary: { version: 'v1', weight: mode === 'canary' ? 90 : 100 },
  alternative: { version: 'v2', weight: mode === 'canary' ? 10 : 0, params },
  origin: 'test',
});

/**
 * Runs `pairs` ego + radar frames (20 Hz, a car 40 m ahead at the ego's speed) through a
 * deterministic service; returns the headers the output tap saw and those a real SUB socket got.
 */
async function drive(spec: PipelineSpec, pairs: number) {
  const box: { ingest?: IngestFn } = {};
  const tapped: Record<string, unknown>[] = [];
  const service = await FusionService.start(spec, {
    log,
    deterministic: true,
    extraSources: [
      (ingest) => {
        box.ingest = ingest;
        return { start: async () => {}, stop: async () => {} };
      },
    ],
    outputTap: (parts) => {
      if (Buffer.from(parts[0]!).toString() === 'out/tracks')
        tapped.push(decodeHeader(parts[1]!) as Record<string, unknown>);
    },
  });
  services.push(service);
  const collector = new OutputCollector();
  collector.connect(service.publishEndpoint);
  await new Promise((r) => setTimeout(r, 300)); // the SUB socket joins before anything is sent
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < pairs; i++) {
    const stamp = t0 + BigInt(i) * 50_000_000n;
    const x = i * 0.05 * 20;
    for (const parts of [
      sensorFrame('ego', 'ego', i, stamp, egoRecord(20, x)),
      sensorFrame('radar', 'radar_front', i, stamp + 1_000_000n, radarTarget(40, 0)),
    ]) {
      box.ingest!(parts, stamp, stamp);
      await service.scheduler.whenIdle();
    }
  }
  // The tap's copies come by message from the tracker thread: the last may still be on its way.
  await waitFor(() => tapped.length >= 2 * pairs, 5000, 'every output at the tap');
  await waitFor(
    () => collector.of('out/tracks').length >= tapped.length,
    5000,
    'every output on the SUB socket',
  );
  await collector.close();
  return { service, tapped, received: collector.of('out/tracks').map((m) => m.header) };
}

describe('TrafficSplit', () => {
  it('a 10 % tracker canary makes 10 % ± 2 % of 2,000 output frames, each saying its version', async () => {
    const { service, tapped, received } = await drive(
      radarSpec(split('canary', 'tracker', { gateChi2Dim2: 9 })),
      1000,
    );
    expect(tapped.length).toBe(2000);
    const v2 = tapped.filter((h) => h.version === 'v2').length;
    const v1 = tapped.filter((h) => h.version === 'v1').length;
    expect(v1 + v2).toBe(2000);
    expect(Math.abs(v2 / 2000 - 0.1)).toBeLessThanOrEqual(0.02);
    // What the SUB socket got says the same.
    expect(received.filter((h) => h.version === 'v2').length).toBe(v2);
    await waitFor(() => (service.scheduler.splitReport?.routed[1] ?? 0) > 0, 3000, 'a split report');
    await service.stop();
    const report = service.scheduler.splitReport!;
    expect(report.routed).toEqual([v1, v2]);
    expect(report.divergence.frames).toBe(2000);
    expect(report.divergence.matchedTracks).toBeGreaterThan(1000);
  }, 60_000);

  it('a shadow never reaches the PUB socket and shows in the divergence report', async () => {
    // The shadow publishes only near-certain tracks: it has tracks the primary shows later.
    const spec = radarSpec(
      split('shadow', 'tracker', { publishMinExistence: 0.97, confirmHits: 5, confirmWindow: 5 }),
    );
    const { service, tapped, received } = await drive(spec, 300);
    expect(tapped.length).toBe(600);
    expect(tapped.every((h) => h.version === 'v1')).toBe(true);
    expect(received.length).toBe(600);
    expect(received.some((h) => h.version !== 'v1')).toBe(false);
    await service.stop();
    const report = service.scheduler.splitReport!;
    expect(report.routed).toEqual([600, 0]);
    expect(report.divergence.frames).toBe(600);
    // The primary confirms its track scans before the shadow does.
    expect(report.divergence.onlyPrimary).toBeGreaterThan(0);
    expect(report.divergence.framesDiffering).toBeGreaterThan(0);
    expect(report.divergence.framesDiffering).toBeLessThan(600);
  }, 60_000);
});
