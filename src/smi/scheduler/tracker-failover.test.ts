/**
 * The tracker thread dies mid-frame (throws out of its loop, or is terminated) in a running
 * service fed over a real ZeroMQ socket: its supervisor hands the pool readers to the hot standby,
 * which resumes from the checkpoint in shared memory. Asserted on values: the same track ids go
 * on (no reset, no burst of new tracks), output sequence numbers continue, no pool slot leaks,
 * the outage is in metrics, logs and status, and the process (with its PUB socket) survives.
 * Timings are bounded only as hang guards; the failover bench measures them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Publisher } from 'zeromq';
import { capturedLog } from '../../test-support/captured-log.js';
import { parsePipelineSpec } from '../spec/pipeline-spec.js';
import { FusionService } from '../../service/fusion-service.js';
import { OutputCollector, waitFor, type OutputMessage } from '../../test-support/output-collector.js';
import { egoRecord, sensorFrame } from '../../test-support/frames.js';
import { TRACK } from '../../wire/layouts.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** Four stationary objects ahead, well apart: range (m), azimuth (rad). */
const TARGETS = [
  [30, -0.1],
  [55, 0.05],
  [80, -0.03],
  [110, 0.08],
] as const;

function radarScan(): number[] {
  return TARGETS.flatMap(([r, az]) => [r, az, 0, 10]);
}

async function startService(recovery: string) {
  const driver = new Publisher({ linger: 0 });
  await driver.bind('tcp://127.0.0.1:*');
  cleanup.push(async () => driver.close());
  const spec = parsePipelineSpec(
    `apiVersion: smi-fusion.dev/v1alpha1
kind: Pipeline
metadata: { name: failover-${process.pid} }
spec:
  sources: [{ type: zmq, endpoints: ['${driver.lastEndpoint}'] }]
  sensors:
    - { id: radar_front, kind: radar, rateHz: 20, mount: { x: 3.7, z: 0.5 }, fovDeg: 30, rangeM: 200 }
    - { id: ego, kind: ego, rateHz: 100 }
  outputs: { publish: 'tcp://127.0.0.1:*', metrics: { enabled: false } }
  scheduler: { recovery: ${recovery} }
`,
    'failover.yaml',
  );
  const { log, records: logs } = capturedLog();
  const service = await FusionService.start(spec, { faultInjection: true, log });
  cleanup.push(() => service.stop());
  const out = new OutputCollector();
  out.connect(service.publishEndpoint);
  cleanup.push(() => out.close());
  // Odometry at 100 Hz, the radar at 20 Hz, until the test ends.
  let egoSeq = 0;
  let radarSeq = 0;
  const now = () => process.hrtime.bigint();
  const ego = setInterval(
    () => void driver.send(sensorFrame('ego', 'ego', egoSeq++, now(), egoRecord(0))),
    10,
  );
  const radar = setInterval(
    () => void driver.send(sensorFrame('radar', 'radar_front', radarSeq++, now(), radarScan())),
    50,
  );
  const feed = { stop: () => (clearInterval(ego), clearInterval(radar)) };
  cleanup.push(async () => feed.stop());
  return { service, out, logs, feed };
}

const idsOf = (m: OutputMessage): number[] => {
  const n = (m.header.count as number) ?? 0;
  return Array.from({ length: n }, (_, i) => m.payload[i * TRACK.stride + TRACK.id]!);
};

/** Waits for the four objects to be tracked steadily; returns their ids. */
async function steadyIds(out: OutputCollector): Promise<number[]> {
  await out.until(
    () => {
      const t = out.of('out/tracks');
      return t.length > 20 && idsOf(t.at(-1)!).length === TARGETS.length;
    },
    10_000,
    'four steady tracks',
  );
  return idsOf(out.of('out/tracks').at(-1)!).sort((a, b) => a - b);
}

async function metric(service: FusionService, name: string): Promise<string> {
  return service.metrics.registry.getSingleMetricAsString(name);
}

/** Kills the tracker thread and waits for its replacement's outputs; checks the tracks go on. */
async function failOver(
  h: Awaited<ReturnType<typeof startService>>,
  fault: 'throw' | 'terminate',
  deaths: number,
) {
  const { service, out } = h;
  const ids = await steadyIds(out);
  const before = out.of('out/tracks').length;
  const lastSeq = out.of('out/tracks').at(-1)!.header.seq as number;
  await service.scheduler.injectFault(fault);
  await waitFor(
    () => service.scheduler.recoveryStatus()!.events.length === deaths,
    5000,
    `death ${deaths} to be seen`,
  );
  await waitFor(
    () => service.scheduler.recoveryStatus()!.events.at(-1)!.firstOutputMs !== undefined,
    5000,
    'the replacement to publish',
  );
  // A second of the replacement's outputs.
  await sleep(1000);
  const after = out.of('out/tracks').slice(before);
  expect(after.length).toBeGreaterThan(10);
  // Output sequence numbers go on from where the dead thread stopped (no restart at 0).
  const seqs = after.map((m) => m.header.seq as number);
  expect(seqs[0]).toBeGreaterThan(lastSeq);
  for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
  // The same objects keep the same ids, from the replacement's first output on, and no new ids.
  expect(idsOf(after[0]!).sort((a, b) => a - b)).toEqual(ids);
  const seen = new Set(after.flatMap(idsOf));
  expect([...seen].sort((a, b) => a - b)).toEqual(ids);
  return service.scheduler.recoveryStatus()!.events.at(-1)!;
}

describe('tracker thread failover (real worker threads, real ZeroMQ)', () => {
  it('a throw mid-frame, then a terminate: the standby resumes the tracks, twice, nothing leaks', async () => {
    const h = await startService('{ maxRestarts: 5, windowS: 60 }');
    const { service, logs } = h;
    await waitFor(() => service.scheduler.recoveryStatus()!.standbyReady, 15_000, 'a standby');
    const first = await failOver(h, 'throw', 1);
    expect(first).toMatchObject({ outcome: 'replaced', standby: true });
    expect(first.reason).toMatch(/injected fault: the tracker thread throws mid-frame/);
    expect(first.resumed!.saves).toBeGreaterThan(20);
    expect(first.resumed!.tracks).toBeGreaterThanOrEqual(TARGETS.length);
    // Mid-frame: it held the frame it was fusing and the reorder window's; the frame it was
    // fusing came after its last checkpoint, so it is lost (and counted).
    expect(first.releasedSlots).toBeGreaterThan(0);
    expect(first.lostFrames).toBeGreaterThanOrEqual(1);
    expect(await metric(service, 'smi_stage_thread_lost_frames_total')).toMatch(
      new RegExp(`smi_stage_thread_lost_frames_total\\{thread="tracker"\\} ${first.lostFrames}\\b`),
    );
    expect(first.gapMs).toBeLessThan(5000);

    // The next standby loads; then the replacement itself is terminated.
    await waitFor(() => service.scheduler.recoveryStatus()!.standbyReady, 10_000, 'the next standby');
    const second = await failOver(h, 'terminate', 2);
    expect(second).toMatchObject({ outcome: 'replaced', standby: true });
    expect(second.reason).toMatch(/exited \(code 1\)/);

    const status = service.status();
    expect(status.status.recovery).toMatchObject({ state: 'running', restarts: 2 });
    const degraded = status.status.conditions.find((c) => c.type === 'Degraded')!;
    expect(degraded).toMatchObject({ status: 'True', reason: 'StageRestarted' });
    expect(await metric(service, 'smi_stage_thread_restarts_total')).toMatch(
      /smi_stage_thread_restarts_total\{thread="tracker",outcome="replaced"\} 2/,
    );
    expect(await metric(service, 'smi_stage_thread_up')).toMatch(/smi_stage_thread_up\{thread="tracker"\} 1/);
    // Nothing the threads published was lost on its way out, across both deaths.
    const dropped = await metric(service, 'smi_output_dropped_total');
    expect(dropped).toMatch(/smi_output_dropped_total\{reason="ring_full"\} 0/);
    expect(dropped).toMatch(/smi_output_dropped_total\{reason="send_failed"\} 0/);
    expect(await metric(service, 'smi_stage_thread_outage_seconds')).toMatch(
      /smi_stage_thread_outage_seconds_count\{thread="tracker",until="first_output"\} 2/,
    );
    const msgs = logs.map((l) => l.msg);
    expect(msgs.filter((m) => m === 'tracker thread died; handing its inputs to a replacement')).toHaveLength(
      2,
    );
    expect(msgs.filter((m) => m === 'tracker thread replaced')).toHaveLength(2);

    // Nothing leaked (each death left tens of slots held): once the feed stops, the pool holds
    // what a live tracker holds, its reorder window (150 ms: 3 radar scans, and the one the
    // window's edge keeps), plus the slot ingest loans ahead for the next message.
    h.feed.stop();
    await sleep(500);
    for (const ch of service.scheduler.telemetry.status().channels) {
      expect(ch.slotsInUse, ch.name).toBeLessThanOrEqual(ch.name === 'ego' ? 1 : 150 / 50 + 2);
    }
  }, 60_000);

  it('without a standby a new thread resumes the tracks; past maxRestarts it gives up and the service goes on', async () => {
    const h = await startService('{ standby: false, maxRestarts: 1, windowS: 60 }');
    const { service, logs } = h;
    const first = await failOver(h, 'throw', 1);
    expect(first).toMatchObject({ outcome: 'replaced', standby: false });
    expect(service.scheduler.recoveryStatus()!.standbyReady).toBe(false);

    await service.scheduler.injectFault('throw');
    await waitFor(
      () => service.scheduler.recoveryStatus()!.state === 'failed',
      5000,
      'the supervisor to give up',
    );
    expect(service.scheduler.recoveryStatus()!.events.at(-1)!.outcome).toBe('gave_up');
    expect(await metric(service, 'smi_stage_thread_up')).toMatch(/smi_stage_thread_up\{thread="tracker"\} 0/);
    expect(
      logs.some((l) => l.msg === 'tracker thread died and is not replaced: no tracks or plans are published'),
    ).toBe(true);
    const degraded = service.status().status.conditions.find((c) => c.type === 'Degraded')!;
    expect(degraded).toMatchObject({ status: 'True', reason: 'StageFailed' });
    // The service itself goes on: ingest still counts odometry, and stopping is bounded.
    const received = service.ingest.receivedOf(1);
    await sleep(300);
    expect(service.ingest.receivedOf(1)).toBeGreaterThan(received);
    const t0 = performance.now();
    h.feed.stop();
    await service.stop();
    expect(performance.now() - t0).toBeLessThan(2000);
  }, 60_000);
});
