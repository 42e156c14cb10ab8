import { afterEach, describe, expect, it } from 'vitest';
import { Publisher } from 'zeromq';
import { pino } from 'pino';
import { parsePipelineSpec } from '../smi/spec/pipeline-spec.js';
import { FusionService } from './fusion-service.js';
import { OutputCollector, waitFor } from '../test-support/output-collector.js';
import { egoRecord, radarTarget, sensorFrame } from '../test-support/frames.js';
import { encodeHeader } from '../wire/codec.js';
import { TRACK, TRACKS_LAYOUT } from '../wire/layouts.js';

const RADAR_X = 3.7;

function specFor(driverEndpoint: string) {
  return parsePipelineSpec(
    `apiVersion: smi-fusion.dev/v1alpha1
kind: Pipeline
metadata: { name: roundtrip }
spec:
  sources: [{ type: zmq, endpoints: ['${driverEndpoint}'] }]
  sensors:
    - { id: radar_front, kind: radar, rateHz: 20, mount: { x: ${RADAR_X}, z: 0.5 }, fovDeg: 20, rangeM: 200 }
    - { id: ego, kind: ego, rateHz: 100 }
    - { id: radar_fl, kind: radar, rateHz: 20, mount: { x: 3.5, y: 0.8, z: 0.5, yawDeg: 45 }, fovDeg: 150, rangeM: 80 }
  outputs: { publish: 'tcp://127.0.0.1:*', metrics: { port: 0 } }
`,
    'roundtrip.yaml',
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function startRig() {
  const driver = new Publisher({ linger: 0 });
  await driver.bind('tcp://127.0.0.1:*');
  cleanup.push(async () => driver.close());
  const service = await FusionService.start(specFor(driver.lastEndpoint!), {
    log: pino({ level: 'silent' }),
  });
  cleanup.push(() => service.stop());
  const out = new OutputCollector();
  out.connect(service.publishEndpoint);
  cleanup.push(() => out.close());
  let seq = 0;
  // ZeroMQ subscriptions propagate asynchronously: send ego frames until the service has one.
  await waitFor(
    () => {
      void driver.send(sensorFrame('ego', 'ego', seq++, process.hrtime.bigint(), egoRecord(20)));
      return service.ingest.receivedOf(1) > 0;
    },
    5000,
    'the service to receive over ZeroMQ',
  );
  return { driver, service, out, nextSeq: () => seq++ };
}

async function metricsText(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

describe('ZeroMQ round trip', () => {
  it('fuses radar frames sent over a real socket into tracks and plans read back from the PUB socket', async () => {
    const { driver, service, out, nextSeq } = await startRig();
    // A car ahead at 40 m closing at 5 m/s while the ego drives 20 m/s: lead speed 15 m/s.
    // Every value follows from the real elapsed time, so the data is physically consistent.
    const t0 = process.hrtime.bigint();
    let range = 40;
    for (let i = 0; i < 40; i++) {
      const now = process.hrtime.bigint();
      const t = Number(now - t0) / 1e9;
      range = 40 - 5 * t;
      await driver.send(sensorFrame('ego', 'ego', nextSeq(), now, egoRecord(20, 20 * t)));
      await driver.send(sensorFrame('radar', 'radar_front', i, now, radarTarget(range, 5)));
      await sleep(50);
    }
    await out.until(() => out.of('out/plan').length >= 20, 5000, '20 plans');
    const tracks = out.of('out/tracks');
    expect(tracks.length).toBeGreaterThanOrEqual(20);
    const last = tracks[tracks.length - 1]!;
    expect(last.header).toMatchObject({
      v: 1,
      kind: 'tracks',
      frame: 'base_link',
      stride: TRACKS_LAYOUT.stride,
    });
    expect(last.payload.length).toBe(Number(last.header.count) * TRACK.stride);
    // Tracks are box centres; the radar sees the car's rear face, half a length nearer.
    const rearFaceX = RADAR_X + range;
    const ids: number[] = [];
    let best = Infinity;
    for (let k = 0; k < last.payload.length; k += TRACK.stride) {
      const rear = last.payload[k + TRACK.x]! - last.payload[k + TRACK.length]! / 2;
      const err = Math.abs(rear - rearFaceX);
      if (err < best) {
        best = err;
        ids[0] = last.payload[k + TRACK.id]!;
        ids[1] = last.payload[k + TRACK.vx]!;
      }
    }
    expect(best).toBeLessThan(1.5);
    expect(Math.abs(ids[1]! - 15)).toBeLessThan(2);
    const plan = out.of('out/plan').at(-1)!;
    expect(['follow', 'brake']).toContain(plan.header.decision);
    expect(plan.header.leadId).toBe(ids[0]);
    // The AEB stage, threat, gap (front bumper to the lead's rear), deceleration and reason.
    expect(plan.header).toMatchObject({ aebStage: 'none', reason: 'lead' });
    expect(plan.header.threatId === -1 || plan.header.threatId === ids[0]).toBe(true);
    expect(Math.abs(Number(plan.header.gap) - (RADAR_X + range - 3.7))).toBeLessThan(1.5);
    expect(Number(plan.header.requiredDecel)).toBeGreaterThanOrEqual(0);
    expect(Number(plan.header.ttc) === -1 || Number(plan.header.ttc) > 2.6).toBe(true);
    expect(typeof plan.header.stampNs).toBe('bigint');
    expect(plan.payload.length).toBe(Number(plan.header.count) * 4);
    // Each plan names the track list it was computed from; its lead is in that list.
    for (const p of out.of('out/plan')) {
      const from = tracks.find((t) => t.header.seq === p.header.tracksSeq);
      expect(from, `tracks #${String(p.header.tracksSeq)}`).toBeDefined();
      const ids = Array.from(
        { length: Number(from!.header.count) },
        (_, k) => from!.payload[k * TRACK.stride + TRACK.id],
      );
      if (Number(p.header.leadId) >= 0) expect(ids).toContain(p.header.leadId);
    }
    const text = await metricsText(service.metricsPort);
    expect(text).toMatch(/smi_ingest_received_total\{sensor="radar_front",kind="radar"\} 40/);
    expect(text).toMatch(/smi_e2e_latency_seconds_count\{trigger="radar"\} [1-9]\d*/);
    // One handoff sample per measurement taken, one sync sample per measurement fused, one fusion
    // sample per track list published (a burst of measurements can share one).
    const count = (name: string) =>
      [...text.matchAll(new RegExp(`^${name}_count(?:\\{[^}]*\\})? (\\d+)$`, 'gm'))].reduce(
        (n, m) => n + Number(m[1]),
        0,
      );
    expect(count('smi_handoff_latency_seconds')).toBeGreaterThanOrEqual(40);
    expect(count('smi_sync_latency_seconds')).toBe(count('smi_handoff_latency_seconds'));
    expect(count('smi_fusion_latency_seconds')).toBeGreaterThan(0);
    expect(count('smi_fusion_latency_seconds')).toBeLessThanOrEqual(count('smi_sync_latency_seconds'));
    expect(text).toMatch(/smi_pool_slots_in_use\{channel="radar_front"\} \d/);
    expect(text).toContain('smi_pool_events_total{channel="radar_front",event="torn_retry"} 0');
  });

  it('rejects each kind of bad input sent over the socket, counts it, and keeps going', async () => {
    const { driver, service, out, nextSeq } = await startRig();
    const now = () => process.hrtime.bigint();
    const good = (seq: number) => sensorFrame('radar', 'radar_front', seq, now(), radarTarget(30));
    const bad: [string, Buffer[]][] = [
      ['malformed_header', [Buffer.from('sensor/radar/radar_front'), Buffer.from([0xc1]), Buffer.alloc(16)]],
      [
        'missing_field',
        [
          Buffer.from('sensor/radar/radar_front'),
          Buffer.from(encodeHeader({ v: 1, kind: 'radar' })),
          Buffer.alloc(16),
        ],
      ],
      ['bad_type', sensorFrame('radar', 'radar_front', 1, now(), radarTarget(30), { count: 'one' })],
      ['length_mismatch', sensorFrame('radar', 'radar_front', 1, now(), radarTarget(30), { count: 2 })],
      ['non_finite', sensorFrame('radar', 'radar_front', 1, now(), [30, NaN, 0, 10])],
      ['stamp_future', sensorFrame('radar', 'radar_front', 1, now() + 60_000_000_000n, radarTarget(30))],
      ['unknown_sensor', sensorFrame('radar', 'radar_rear', 1, now(), radarTarget(30))],
      // (A topic of an unknown kind, sensor/sonar/..., is not subscribed to: ZeroMQ never delivers
      // it. Ingest's own test covers unknown_topic.)
    ];
    for (const [, parts] of bad) await driver.send(parts);
    await driver.send(good(1));
    // Going backwards after the good frame:
    await driver.send(sensorFrame('radar', 'radar_front', 2, now() - 1_000_000_000n, radarTarget(30)));
    await driver.send(sensorFrame('ego', 'ego', nextSeq(), now(), egoRecord(10)));
    await driver.send(good(3));
    await waitFor(() => service.ingest.receivedOf(0) >= 2, 5000, 'two good radar frames');
    await out.until(() => out.of('out/tracks').length >= 2, 5000, 'tracks after bad input');
    const text = await metricsText(service.metricsPort);
    for (const [reason] of bad) {
      const sensor = reason === 'unknown_sensor' || reason === 'unknown_topic' ? 'unknown' : 'radar_front';
      expect(text, reason).toContain(`smi_ingest_rejected_total{sensor="${sensor}",reason="${reason}"} 1`);
    }
    expect(text).toContain('smi_ingest_rejected_total{sensor="radar_front",reason="stamp_backwards"} 1');
    expect(service.ingest.rejectedCount).toBe(bad.length + 1);
    expect(service.ingest.receivedOf(0)).toBe(2);
  });

  it('fuses a measurement older than what the tracker has fused in stamp order, and refuses one older than the window', async () => {
    const { driver, service, nextSeq } = await startRig();
    // Fused: every committed message consumed by its stage and the outputs published.
    const fused = (what: string) => waitFor(() => service.scheduler.idle(), 5000, what);
    const frontStamp = process.hrtime.bigint();
    await driver.send(sensorFrame('ego', 'ego', nextSeq(), frontStamp, egoRecord(10)));
    await driver.send(sensorFrame('radar', 'radar_front', 1, frontStamp, radarTarget(30)));
    await waitFor(() => service.ingest.receivedOf(0) === 1, 5000, 'the radar_front frame');
    await fused('the radar_front frame to be fused');
    // radar_fl's first frame: valid for ingest (its own first stamp), but 20 ms older than the
    // radar_front frame the tracker has fused already: fused by rewinding.
    await driver.send(sensorFrame('radar', 'radar_fl', 1, frontStamp - 20_000_000n, [20, 0, 0, 10]));
    await waitFor(() => service.ingest.receivedOf(2) === 1, 5000, 'the late radar_fl frame');
    await fused('the late radar_fl frame to be fused');
    // And one far older than the newest: beyond the 150 ms reorder window.
    await sleep(400);
    await driver.send(sensorFrame('radar', 'radar_front', 2, process.hrtime.bigint(), radarTarget(30)));
    await waitFor(() => service.ingest.receivedOf(0) === 2, 5000, 'the second radar_front frame');
    await fused('the second radar_front frame to be fused');
    await driver.send(sensorFrame('radar', 'radar_fl', 2, frontStamp + 10_000_000n, [20, 0, 0, 10]));
    await waitFor(() => service.ingest.receivedOf(2) === 2, 5000, 'the too-late radar_fl frame');
    await fused('the too-late radar_fl frame to be handled');
    const text = await service.metrics.text();
    expect(text).toContain('smi_sched_rewinds_total{stage="tracker"} 1');
    expect(text).toContain('smi_sched_shed_total{stage="tracker",class="critical",reason="late"} 1');
    // Every slot back (the window holds only what is younger than 150 ms behind the newest), but
    // the one ingest loaned ahead for radar_fl's next message.
    expect(service.pool.slotsInUse(2)).toBe(1);
  });
});
