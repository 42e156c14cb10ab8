/**
 * Sensor faults over a real ZeroMQ socket into the running service: a radar stops, restarts
 * (seq from 0 again), sends a burst, repeats itself and has its clock jump back, while odometry
 * keeps flowing. The radar is reported silent, then restarted, then ok again; it is never locked
 * out; the pipeline keeps publishing throughout; every message is accounted for.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Publisher } from 'zeromq';
import { capturedLog } from '../test-support/captured-log.js';
import { radarEgoSpec } from '../test-support/radar-ego-spec.js';
import { FusionService } from './fusion-service.js';
import { OutputCollector, waitFor } from '../test-support/output-collector.js';
import { egoRecord, radarTarget, sensorFrame } from '../test-support/frames.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe('sensor faults (real ZeroMQ socket, running service)', () => {
  it('marks a radar silent, restarted and ok again, never locks it out, and keeps fusing the rest', async () => {
    const driver = new Publisher({ linger: 0 });
    await driver.bind('tcp://127.0.0.1:*');
    cleanup.push(async () => driver.close());
    const { log, records: logs } = capturedLog();
    const spec = radarEgoSpec('sensor-faults', driver.lastEndpoint!);
    const service = await FusionService.start(spec, { log });
    cleanup.push(() => service.stop());
    const out = new OutputCollector();
    out.connect(service.publishEndpoint);
    cleanup.push(() => out.close());
    const RADAR = 0;
    const EGO = 1;
    let egoSeq = 0;
    const now = () => process.hrtime.bigint();
    await waitFor(
      () => {
        void driver.send(sensorFrame('ego', 'ego', egoSeq++, now(), egoRecord(20)));
        return service.ingest.receivedOf(EGO) > 0;
      },
      5000,
      'the service to receive over ZeroMQ',
    );
    // Odometry keeps flowing at ~100 Hz through everything below.
    const ego = setInterval(
      () => void driver.send(sensorFrame('ego', 'ego', egoSeq++, now(), egoRecord(20))),
      10,
    );
    cleanup.push(async () => clearInterval(ego));
    const state = () => service.sensorHealth.states[RADAR];
    let radarSeq = 100;
    const radar = (seq = radarSeq++, stamp = now()) =>
      driver.send(sensorFrame('radar', 'radar_front', seq, stamp, radarTarget(40, 2)));

    for (let i = 0; i < 10; i++) {
      await radar();
      await sleep(50);
    }
    await waitFor(() => state() === 'ok', 3000, 'radar ok');

    // It stops: silent (degraded) after 5 periods, while the ego still updates the outputs.
    const tracksBefore = out.of('out/tracks').length;
    await waitFor(() => state() === 'silent', 3000, 'radar silent');
    await out.until(
      () => out.of('out/tracks').length > tracksBefore + 10,
      5000,
      'tracks while the radar is silent',
    );
    expect(
      logs.some((l) => l.msg === 'sensor silent: degraded, fusing the others' && l.sensor === 'radar_front'),
    ).toBe(true);

    // It restarts: seq from 0 again, stamps going on. Accepted at once, reported restarted.
    const before = service.ingest.receivedOf(RADAR);
    radarSeq = 0;
    await radar();
    await waitFor(
      () => service.ingest.receivedOf(RADAR) === before + 1,
      3000,
      'the restarted radar accepted',
    );
    await waitFor(() => state() === 'restarted', 3000, 'radar restarted');

    // A burst (50 at once), then a repeat of the last one, then its clock jumps back 300 ms.
    for (let i = 0; i < 50; i++) await radar();
    await radar(radarSeq - 1, now() - 1_000_000_000n); // seq and stamp back: a duplicate
    const jumped = now() - 300_000_000n;
    for (let i = 0; i < 4; i++) await radar(radarSeq++, jumped + BigInt(i) * 1_000_000n);
    const offered = 1 + 50 + 1 + 4;
    await waitFor(
      () =>
        service.ingest.receivedOf(RADAR) + service.ingest.rejectedCount + service.ingest.droppedCount >=
        before + offered,
      5000,
      'every radar message accounted for',
    );
    // The duplicate and the first two of the jump are refused; the third and fourth are followed.
    expect(service.ingest.rejectedCount).toBe(3);
    expect(service.ingest.receivedOf(RADAR) + service.ingest.droppedCount).toBe(before + offered - 3);
    expect(service.ingestSink.counters.eventsOf(RADAR, 'restart')).toBe(1);
    expect(service.ingestSink.counters.eventsOf(RADAR, 'clock_jump')).toBe(1);

    // Back to normal: ok again after a second, and fused.
    for (let i = 0; i < 30 && state() !== 'ok'; i++) {
      await radar();
      await sleep(50);
    }
    expect(state()).toBe('ok');
    expect(logs.some((l) => l.msg === 'sensor healthy again' && l.sensor === 'radar_front')).toBe(true);
    // No slot leaked by the faults: the tracker holds only the radar frames of its reorder window
    // (150 ms of radar at 50 ms: up to 4) and ingest one loaned ahead.
    await waitFor(() => service.scheduler.idle(), 5000, 'the pipeline to drain');
    expect(service.pool.slotsInUse(RADAR)).toBeLessThanOrEqual(5);
  }, 60_000);
});
