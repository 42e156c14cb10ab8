/**
 * The lidar thread throws mid-scan while it receives scans on its own ZeroMQ socket: it
 * fail-stops (closing the socket first, without which zeromq.js would abort the whole process),
 * is not replaced, and the service goes on without lidar boxes: the tracker keeps publishing
 * from radar and odometry, what the dead thread held in the pool is released, and the failure
 * is in metrics, logs and status; stopping stays bounded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Publisher } from 'zeromq';
import { parsePipelineSpec } from '../spec/pipeline-spec.js';
import { FusionService } from '../../service/fusion-service.js';
import { OutputCollector, waitFor } from '../../test-support/output-collector.js';
import { capturedLog } from '../../test-support/captured-log.js';
import {
  egoRecord,
  lidarScanPoints,
  radarTarget,
  sensorFrame,
  sensorFrameFrom,
} from '../../test-support/frames.js';
import { STAGE_COUNTER } from '../../workers/scheduler-block.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe('lidar thread failure (real worker thread, real ZeroMQ)', () => {
  it('fail-stops without taking the process, releases what it held, and the tracker goes on', async () => {
    const driver = new Publisher({ linger: 0 });
    await driver.bind('tcp://127.0.0.1:*');
    cleanup.push(async () => driver.close());
    const spec = parsePipelineSpec(
      `apiVersion: smi-fusion.dev/v1alpha1
kind: Pipeline
metadata: { name: lidar-failure-${process.pid} }
spec:
  sources: [{ type: zmq, endpoints: ['${driver.lastEndpoint}'] }]
  sensors:
    - { id: lidar_top, kind: lidar, rateHz: 10, mount: { x: 1.3, z: 1.9 }, fovDeg: 360, rangeM: 120 }
    - { id: radar_front, kind: radar, rateHz: 20, mount: { x: 3.7, z: 0.5 }, fovDeg: 20, rangeM: 200 }
    - { id: ego, kind: ego, rateHz: 100 }
  outputs: { publish: 'tcp://127.0.0.1:*', metrics: { enabled: false } }
`,
      'lidar-failure.yaml',
    );
    const { log, records } = capturedLog();
    const service = await FusionService.start(spec, { log, faultInjection: true });
    cleanup.push(() => service.stop());
    const out = new OutputCollector();
    out.connect(service.publishEndpoint);
    cleanup.push(() => out.close());
    const now = () => process.hrtime.bigint();
    const seq = { lidar: 0, radar: 0, ego: 0 };
    const scan = lidarScanPoints(8000);
    let tick = 0;
    const feed = setInterval(() => {
      tick++;
      void driver.send(sensorFrame('ego', 'ego', seq.ego++, now(), egoRecord(10)));
      if (tick % 5 === 0)
        void driver.send(sensorFrame('radar', 'radar_front', seq.radar++, now(), radarTarget(40)));
      if (tick % 10 === 0) void driver.send(sensorFrameFrom('lidar', 'lidar_top', seq.lidar++, now(), scan));
    }, 10);
    cleanup.push(async () => clearInterval(feed));
    const extraction = service.graph.stages.find((s) => s.type === 'lidar-extraction')!;
    const extracted = () => service.scheduler.block.get(extraction.index, STAGE_COUNTER.frames);
    await waitFor(
      () => extracted() >= 5 && out.of('out/tracks').length > 20,
      10_000,
      'lidar boxes and tracks',
    );

    await service.scheduler.injectFault('throw', 'lidar');
    await waitFor(
      () => service.scheduler.recoveryStatus()?.lidar !== undefined,
      5000,
      'the lidar thread to die',
    );
    const failure = service.scheduler.recoveryStatus()!.lidar!;
    expect(failure.reason).toMatch(/injected fault: the lidar thread throws mid-scan/);
    expect(service.scheduler.lidarAlive).toBe(false);
    // The tracker goes on: tracks keep coming from radar and odometry; no more boxes.
    const tracksBefore = out.of('out/tracks').length;
    const boxesBefore = extracted();
    await sleep(600);
    expect(out.of('out/tracks').length - tracksBefore).toBeGreaterThan(20);
    expect(extracted()).toBe(boxesBefore);
    // What it held is back: its reader entry freed, no lidar or boxes slot left in use.
    for (const ch of service.scheduler.telemetry
      .status()
      .channels.filter((c) => c.name.startsWith('lidar_top'))) {
      expect(ch.slotsInUse, ch.name).toBe(0);
    }
    expect(await service.metrics.registry.getSingleMetricAsString('smi_stage_thread_up')).toMatch(
      /smi_stage_thread_up\{thread="lidar"\} 0/,
    );
    expect(await service.metrics.registry.getSingleMetricAsString('smi_stage_thread_restarts_total')).toMatch(
      /smi_stage_thread_restarts_total\{thread="lidar",outcome="gave_up"\} 1/,
    );
    expect(
      records.some(
        (r) =>
          r.msg ===
          'lidar thread died and is not replaced: lidar boxes stop, the tracker goes on with the other sensors',
      ),
    ).toBe(true);
    const degraded = service.status().status.conditions.find((c) => c.type === 'Degraded')!;
    expect(degraded).toMatchObject({ status: 'True', reason: 'StageFailed' });
    expect(degraded.message).toMatch(/lidar thread down/);
    clearInterval(feed);
    const t0 = performance.now();
    await service.stop();
    expect(performance.now() - t0).toBeLessThan(2000);
  }, 30_000);
});
