/**
 * The SMI scheduler on real worker threads and real ZeroMQ sockets: class order under contention,
 * EDF on the shared pool, shedding order under overload, a 4 MiB lidar scan next to critical
 * traffic, late lidar boxes, and a full channel. Assertions are on counts and orderings, never on
 * absolute times (these machines are shared).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Publisher } from 'zeromq';
import { pino } from 'pino';
import { Piscina } from 'piscina';
import { fileURLToPath } from 'node:url';
import { parsePipelineSpec, type PipelineSpec } from '../spec/pipeline-spec.js';
import { FusionService } from '../../service/fusion-service.js';
import { STAGE_COUNTER } from '../../workers/scheduler-block.js';
import { OutputCollector, waitFor } from '../../test-support/output-collector.js';
import {
  egoRecord,
  lidarScanPoints,
  radarTarget,
  sensorFrame,
  sensorFrameFrom,
} from '../../test-support/frames.js';
import { LatencyHistogram } from '../../telemetry/latency-histogram.js';
import { CAMERA, TRACK } from '../../wire/layouts.js';
import { ClassEdfTaskQueue } from './class-edf-task-queue.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const SENSORS = `
  sensors:
    - { id: lidar_top, kind: lidar, rateHz: 10, mount: { x: 1.3, z: 1.9 }, fovDeg: 360, rangeM: 120 }
    - { id: radar_front, kind: radar, rateHz: 20, mount: { x: 3.7, z: 0.5 }, fovDeg: 20, rangeM: 200 }
    - { id: cam_front, kind: camera, rateHz: 30, mount: { x: 2.0, z: 1.4 }, fovDeg: 60, rangeM: 150 }
    - { id: ego, kind: ego, rateHz: 100 }`;

function specWith(endpoint: string, extra = ''): PipelineSpec {
  return parsePipelineSpec(
    `apiVersion: smi-fusion.dev/v1alpha1
kind: Pipeline
metadata: { name: sched-${process.pid} }
spec:
  sources: [{ type: zmq, endpoints: ['${endpoint}'] }]
${SENSORS}
  outputs: { publish: 'tcp://127.0.0.1:*', metrics: { enabled: false } }
${extra}`,
    'sched.yaml',
  );
}

const S = { lidar: 0, radar: 1, camera: 2, ego: 3 } as const;

async function startRig(extra = '', options: Partial<Parameters<typeof FusionService.start>[1]> = {}) {
  const driver = new Publisher({ linger: 0, sendHighWaterMark: 100_000 });
  await driver.bind('tcp://127.0.0.1:*');
  cleanup.push(async () => driver.close());
  const service = await FusionService.start(specWith(driver.lastEndpoint!, extra), {
    log: pino({ level: process.env.SCHED_TEST_LOG ?? 'silent' }),
    ...options,
  });
  cleanup.push(() => service.stop());
  const seq = { lidar: 0, radar: 0, camera: 0, ego: 0 };
  const now = () => process.hrtime.bigint();
  const ego = (speed = 15) => driver.send(sensorFrame('ego', 'ego', seq.ego++, now(), egoRecord(speed)));
  // Subscriptions reach the driver asynchronously: send odometry until one arrives on each socket.
  await waitFor(
    () => {
      void ego();
      void driver.send(sensorFrame('radar', 'radar_front', seq.radar++, now(), radarTarget(200)));
      if (service.ingest.receivedOf(S.lidar) === 0)
        void driver.send(sensorFrame('lidar', 'lidar_top', seq.lidar++, now(), [50, 50, 0, 0.1]));
      if (service.ingest.receivedOf(S.camera) === 0)
        void driver.send(
          sensorFrame('camera', 'cam_front', seq.camera++, now(), [1, 0.9, 300, 200, 340, 240, 0, 80]),
        );
      return (
        service.ingest.receivedOf(S.ego) > 0 &&
        service.ingest.receivedOf(S.radar) > 0 &&
        service.ingest.receivedOf(S.lidar) > 0 &&
        service.ingest.receivedOf(S.camera) > 0
      );
    },
    5000,
    'the service to receive over ZeroMQ on every socket',
  );
  // Priming sends raced their replies: let the last ones land, then start from a quiet pipeline.
  await sleep(200);
  await waitFor(() => service.scheduler.idle(), 5000, 'the first messages to be fused');
  return { driver, service, seq, now, ego };
}

/** Counter of a stage by type. */
function counter(service: FusionService, type: string, field: number): number {
  const stage = service.graph.stages.find((s) => s.type === type)!;
  return service.scheduler.block.get(stage.index, field);
}

function drops(service: FusionService, channel: number): number {
  const st = service.pool.stats(channel);
  return st.droppedFull + st.droppedOldest;
}

describe('SMI scheduler (real threads, real sockets)', () => {
  it('a full 262,144-point lidar scan causes no ego or radar drop, and extraction keeps up', async () => {
    const { driver, service, seq, now, ego } = await startRig();
    const egoBefore = service.ingest.receivedOf(S.ego);
    const radarBefore = service.ingest.receivedOf(S.radar);
    const lidarBefore = service.ingest.receivedOf(S.lidar);
    const lidarCount = (field: number) => counter(service, 'lidar-extraction', field);
    const extractedBefore = lidarCount(STAGE_COUNTER.frames) + lidarCount(STAGE_COUNTER.shedSuperseded);
    const scan = lidarScanPoints(262_144);
    expect(scan.byteLength).toBe(4 * 1024 * 1024);
    // 1.5 s of traffic: odometry at 100 Hz, radar at 20 Hz, a 4 MiB scan at 10 Hz.
    let egoSent = 0;
    let radarSent = 0;
    let lidarSent = 0;
    for (let tick = 0; tick < 150; tick++) {
      await ego();
      egoSent++;
      if (tick % 5 === 0) {
        await driver.send(sensorFrame('radar', 'radar_front', seq.radar++, now(), radarTarget(30)));
        radarSent++;
      }
      if (tick % 10 === 0) {
        await driver.send(sensorFrameFrom('lidar', 'lidar_top', seq.lidar++, now(), scan));
        lidarSent++;
      }
      await sleep(10);
    }
    await waitFor(
      () =>
        service.ingest.receivedOf(S.ego) === egoBefore + egoSent &&
        service.ingest.receivedOf(S.radar) === radarBefore + radarSent &&
        service.ingest.receivedOf(S.lidar) === lidarBefore + lidarSent,
      10_000,
      'every message ingested',
    );
    await waitFor(() => service.scheduler.idle(), 10_000, 'the pipeline to finish');
    expect(drops(service, S.ego)).toBe(0);
    expect(drops(service, S.radar)).toBe(0);
    expect(service.ingest.droppedCount).toBe(0);
    // Every scan extracted (or superseded by a newer one while the thread was busy), none lost.
    const shed = lidarCount(STAGE_COUNTER.shedDeadline) + lidarCount(STAGE_COUNTER.shedOverload);
    expect(lidarCount(STAGE_COUNTER.frames)).toBeGreaterThan(1);
    expect(
      lidarCount(STAGE_COUNTER.frames) + lidarCount(STAGE_COUNTER.shedSuperseded) + shed - extractedBefore,
    ).toBe(lidarSent);
    // Every critical message fused, none shed.
    expect(counter(service, 'tracker', STAGE_COUNTER.shedDeadline)).toBe(0);
    expect(counter(service, 'tracker', STAGE_COUNTER.shedOverload)).toBe(0);
  });

  it('fuses lidar boxes that arrive after newer radar scans into the track they belong to', async () => {
    // A generous lidar budget: no scan is shed here however busy the machine.
    const { driver, service, seq, now, ego } = await startRig(
      '  stages:\n    - { name: lidar-extraction, budgetMs: 2000 }\n',
    );
    const boxes = service.graph.channels.find((c) => c.kind === 'boxes')!.index;
    const boxesBefore = service.pool.commitCount(boxes);
    const out = new OutputCollector();
    out.connect(service.publishEndpoint);
    cleanup.push(() => out.close());
    // A car 25 m ahead, seen by the radar long enough to be confirmed.
    for (let i = 0; i < 20; i++) {
      await ego(0);
      await driver.send(sensorFrame('radar', 'radar_front', seq.radar++, now(), radarTarget(25 + 1.3 - 3.7)));
      await sleep(50);
    }
    await out.until(
      () => out.of('out/tracks').some((m) => Number(m.header.count) === 1),
      5000,
      'a confirmed track',
    );
    const trackId = out
      .of('out/tracks')
      .filter((m) => Number(m.header.count) === 1)
      .at(-1)!.payload[TRACK.id]!;
    const rewindsBefore = counter(service, 'tracker', STAGE_COUNTER.rewinds);
    const lidarBefore = service.ingest.receivedOf(S.lidar);
    // Each scan is stamped before a radar scan that is sent ahead of it: its boxes come later.
    const scans = 4;
    for (let i = 0; i < scans; i++) {
      await ego(0);
      const radarIn = service.ingest.receivedOf(S.radar);
      const radarStamp = now();
      await driver.send(
        sensorFrame('radar', 'radar_front', seq.radar++, radarStamp, radarTarget(25 + 1.3 - 3.7)),
      );
      await waitFor(() => service.ingest.receivedOf(S.radar) > radarIn, 5000, 'the radar scan');
      await waitFor(() => service.scheduler.idle(), 5000, 'the radar scan to be fused');
      // Captured 5 ms before that radar scan, delivered after it (as boxes are, from the lidar thread).
      const lidarStamp = radarStamp - 5_000_000n;
      await driver.send(
        sensorFrameFrom('lidar', 'lidar_top', seq.lidar++, lidarStamp, lidarScanPoints(20_000, 25 - 1.3)),
      );
      await waitFor(() => service.ingest.receivedOf(S.lidar) === lidarBefore + i + 1, 5000, 'the lidar scan');
      await waitFor(() => service.scheduler.idle(), 5000, 'its boxes to be fused');
    }
    // Every box list came after a newer radar scan, and every one was fused by rewinding.
    const why = `lidar in ${service.ingest.receivedOf(S.lidar) - lidarBefore}, extracted ${counter(service, 'lidar-extraction', STAGE_COUNTER.frames)}, superseded ${counter(service, 'lidar-extraction', STAGE_COUNTER.shedSuperseded)}, boxes dropped ${drops(service, boxes)}, boxes ${service.pool.commitCount(boxes) - boxesBefore}, rewinds ${counter(service, 'tracker', STAGE_COUNTER.rewinds) - rewindsBefore}, late ${counter(service, 'tracker', STAGE_COUNTER.tooLate)}, tracker frames ${counter(service, 'tracker', STAGE_COUNTER.frames)}`;
    expect(service.pool.commitCount(boxes) - boxesBefore, why).toBe(scans);
    expect(counter(service, 'tracker', STAGE_COUNTER.rewinds) - rewindsBefore, why).toBe(scans);
    expect(counter(service, 'tracker', STAGE_COUNTER.tooLate)).toBe(0);
    await ego(0);
    await waitFor(() => service.scheduler.idle(), 5000, 'the last update');
    await sleep(100);
    // Still one confirmed track, the same one: the boxes updated it instead of starting another.
    const last = out.of('out/tracks').at(-1)!;
    expect(Number(last.header.count)).toBe(1);
    expect(last.payload[TRACK.id]).toBe(trackId);
  });

  it('runs critical frames ahead of a flood of camera frames (class order under contention), counting every frame', async () => {
    const { driver, service, seq, now, ego } = await startRig();
    // Each frame's latency from its stamp to its stage being done with it, per class and phase.
    const latency = {
      idle: new LatencyHistogram(),
      radar: new LatencyHistogram(),
      camera: new LatencyHistogram(),
    };
    let phase: 'idle' | 'busy' | 'off' = 'idle';
    service.scheduler.telemetry.onSample((s) => {
      if (s.metric !== 'latency' || phase === 'off') return;
      if (s.channel === 'radar_front') (phase === 'idle' ? latency.idle : latency.radar).record(s.valueNs);
      else if (s.channel === 'cam_front' && phase === 'busy') latency.camera.record(s.valueNs);
    });
    // A camera object list of 64 boxes (a cluttered scene): real work for camera fusion.
    const objects: number[] = [];
    for (let k = 0; k < 64; k++)
      objects.push(1, 0.9, 100 + 8 * k, 300, 140 + 8 * k, 360, 0.01 * (k - 32), 20 + k);
    expect(objects.length).toBe(64 * CAMERA.stride);
    const radarFramesBefore = counter(service, 'tracker', STAGE_COUNTER.frames);
    const radarSent = { idle: 0, busy: 0 };
    for (const p of ['idle', 'busy'] as const) {
      phase = p;
      for (let tick = 0; tick < 40; tick++) {
        await ego();
        await driver.send(sensorFrame('radar', 'radar_front', seq.radar++, now(), radarTarget(30)));
        radarSent[p]++;
        // The flood: 40 camera lists per radar scan, stamped before it.
        if (p === 'busy') {
          for (let k = 0; k < 40; k++)
            await driver.send(sensorFrame('camera', 'cam_front', seq.camera++, now(), objects));
        }
        await sleep(25);
      }
      service.scheduler.telemetry.drain();
    }
    // Let what is in flight land: until the camera count stops moving (ZeroMQ may drop at its
    // high-water mark before the service sees a message; what arrives is what is accounted for).
    for (let last = -1, n = 0; n < 200 && last !== service.ingest.receivedOf(S.camera); n++) {
      last = service.ingest.receivedOf(S.camera);
      await sleep(50);
    }
    await waitFor(() => service.scheduler.idle(), 20_000, 'the flood to be worked off');
    service.scheduler.telemetry.drain();
    phase = 'off';
    // Counts: every radar scan fused, none shed, in both phases; every camera list fused or shed.
    expect(
      counter(service, 'tracker', STAGE_COUNTER.shedDeadline) +
        counter(service, 'tracker', STAGE_COUNTER.shedOverload),
    ).toBe(0);
    expect(counter(service, 'tracker', STAGE_COUNTER.frames) - radarFramesBefore).toBeGreaterThanOrEqual(
      radarSent.idle + radarSent.busy,
    );
    const cameraIn = service.ingest.receivedOf(S.camera);
    const cameraDone =
      counter(service, 'camera-fusion', STAGE_COUNTER.frames) +
      counter(service, 'camera-fusion', STAGE_COUNTER.shedDeadline) +
      counter(service, 'camera-fusion', STAGE_COUNTER.shedOverload) +
      counter(service, 'camera-fusion', STAGE_COUNTER.tooLate);
    expect(cameraIn).toBeGreaterThan(seq.camera / 2);
    expect(cameraDone + drops(service, S.camera)).toBe(cameraIn);
    // Ordering: under the flood radar scans go ahead of the camera lists queued before them, so
    // they are done sooner after their stamp than the camera lists that were fused at all.
    // (Samples reach this thread in batches, so a phase's last ones may land in the next.)
    expect(latency.idle.count + latency.radar.count).toBe(radarSent.idle + radarSent.busy);
    const cameraShed =
      counter(service, 'camera-fusion', STAGE_COUNTER.shedDeadline) +
      counter(service, 'camera-fusion', STAGE_COUNTER.shedOverload);
    expect(cameraShed + drops(service, S.camera)).toBeGreaterThan(0);
    if (latency.camera.count > 0) {
      expect(latency.radar.quantile(0.5)).toBeLessThan(latency.camera.quantile(0.5));
    }

    expect(drops(service, S.radar) + drops(service, S.ego)).toBe(0);
  });

  it('sheds from the bottom up under overload: best-effort (recording) first, then normal, then degrades high; never critical', async () => {
    // 3x the rig's rates, and a critical budget no machine meets (0.3 ms), so overload is certain.
    const shedLog: string[] = [];
    const { driver, service, seq, now, ego } = await startRig(
      '  stages:\n    - { name: planner, budgetMs: 0.3 }\n    - { name: tracker, budgetMs: 0.3 }\n',
      { inputTap: () => {}, tapShed: () => shedLog.push('recorder') },
    );
    const firstSeen = new Map<string, number>();
    let maxLevel = 0;
    const watch = setInterval(() => {
      const t = performance.now();
      const note = (name: string, n: number) => n > 0 && !firstSeen.has(name) && firstSeen.set(name, t);
      maxLevel = Math.max(maxLevel, service.scheduler.block.overload);
      note('best-effort', counter(service, 'recorder', STAGE_COUNTER.shedOverload));
      note('normal', counter(service, 'camera-fusion', STAGE_COUNTER.shedOverload));
      note('level 3', service.scheduler.block.overload >= 3 ? 1 : 0);
    }, 5);
    cleanup.push(async () => clearInterval(watch));
    const scan = lidarScanPoints(60_000);
    const objects = [1, 0.9, 300, 200, 340, 240, 0, 30];
    const degradedBefore = counter(service, 'lidar-extraction', STAGE_COUNTER.degraded);
    // 3x load: odometry at 300 Hz, radar at 60 Hz, camera at 90 Hz, lidar at 30 Hz, for 3 s.
    const end = performance.now() + 3000;
    for (let tick = 0; performance.now() < end && tick < 1200; tick++) {
      await ego();
      if (tick % 5 === 0)
        await driver.send(sensorFrame('radar', 'radar_front', seq.radar++, now(), radarTarget(30)));
      if (tick % 3 === 0) await driver.send(sensorFrame('camera', 'cam_front', seq.camera++, now(), objects));
      if (tick % 10 === 0) await driver.send(sensorFrameFrom('lidar', 'lidar_top', seq.lidar++, now(), scan));
      await sleep(3);
    }
    clearInterval(watch);
    expect(maxLevel).toBe(3);
    // Bottom up: recording gave way first, then camera fusion, then the high class was degraded.
    expect(firstSeen.get('best-effort')!).toBeLessThanOrEqual(firstSeen.get('normal')!);
    expect(firstSeen.get('normal')!).toBeLessThanOrEqual(firstSeen.get('level 3')!);
    expect(counter(service, 'lidar-extraction', STAGE_COUNTER.degraded)).toBeGreaterThan(degradedBefore);
    expect(shedLog.length).toBe(counter(service, 'recorder', STAGE_COUNTER.shedOverload));
    // Critical work is never shed (it is late, and counted as missing its deadline).
    expect(
      counter(service, 'tracker', STAGE_COUNTER.shedDeadline) +
        counter(service, 'tracker', STAGE_COUNTER.shedOverload),
    ).toBe(0);
    expect(counter(service, 'tracker', STAGE_COUNTER.misses)).toBeGreaterThan(0);
  });

  it('a full drop-oldest channel drops its oldest unread messages, never the newest, and accounts for every one', async () => {
    // A small odometry channel, and a tracker kept busy by big radar scans, so odometry backs up.
    const { driver, service, seq, now, ego } = await startRig('  channels:\n    ego: { slots: 4 }\n');
    const egoBefore = service.ingest.receivedOf(S.ego);
    const bigRadar: number[] = [];
    for (let k = 0; k < 2000; k++) bigRadar.push(20 + 0.05 * k, 0.001 * (k % 200) - 0.1, -1, 5);
    let egoSent = 0;
    for (let round = 0; round < 20; round++) {
      await driver.send(sensorFrame('radar', 'radar_front', seq.radar++, now(), bigRadar));
      for (let k = 0; k < 50; k++) {
        await ego();
        egoSent++;
      }
      await sleep(5);
    }
    await waitFor(
      () => service.ingest.receivedOf(S.ego) >= egoBefore + egoSent,
      10_000,
      'every odometry message',
    );
    await waitFor(() => service.scheduler.idle(), 10_000, 'the tracker to catch up');
    const st = service.pool.stats(S.ego);
    expect(service.ingest.droppedCount).toBe(0); // nothing refused at ingest: the newest always got in
    expect(st.droppedFull).toBe(0);
    expect(st.droppedOldest).toBeGreaterThan(0);
    // Every committed message was either fused or dropped for a newer one.
    const consumed = service.scheduler.block.consumedOf(S.ego);
    expect(consumed + st.droppedOldest).toBe(service.pool.commitCount(S.ego));
  });

  it('runs shared-pool tasks by class, then earliest deadline first', async () => {
    const pool = new Piscina({
      filename: fileURLToPath(new URL('../../../dist/smi/scheduler/testing/edf-task.js', import.meta.url)),
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: 1000,
      taskQueue: new ClassEdfTaskQueue(),
    });
    cleanup.push(() => pool.destroy());
    const order = (classRank: number, deadlineNs: number) => ({
      [Piscina.queueOptionsSymbol]: { classRank, deadlineNs },
    });
    const done: string[] = [];
    const run = (label: string, ms: number, o: object) =>
      pool.run({ label, ms, ...o }).then((r: { label: string }) => done.push(r.label));
    const busy = run('busy', 200, order(0, 0));
    await sleep(50); // the one thread is now busy; the rest queue
    const queued = [
      run('normal-30', 5, order(2, 30e6)),
      run('normal-10', 5, order(2, 10e6)),
      run('normal-20', 5, order(2, 20e6)),
      run('best-effort-1', 5, order(3, 1e6)),
      run('critical-90', 5, order(0, 90e6)),
    ];
    await Promise.all([busy, ...queued]);
    expect(done).toEqual(['busy', 'critical-90', 'normal-10', 'normal-20', 'normal-30', 'best-effort-1']);
  });
});
