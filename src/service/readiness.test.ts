import { afterEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { XPublisher } from 'zeromq';
import { parsePipelineSpec } from '../smi/spec/pipeline-spec.js';
import { egoRecord, radarTarget, sensorFrame } from '../test-support/frames.js';
import { waitFor } from '../test-support/output-collector.js';
import { FusionService } from './fusion-service.js';

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const spec = (endpoint: string) =>
  parsePipelineSpec(
    `apiVersion: smi-fusion.dev/v1alpha1
kind: Pipeline
metadata: { name: readiness }
spec:
  sources: [{ type: zmq, endpoints: ['${endpoint}'] }]
  sensors:
    - { id: radar_front, kind: radar, rateHz: 20, mount: { x: 3.7, z: 0.5 }, fovDeg: 20, rangeM: 200 }
    - { id: ego, kind: ego, rateHz: 100 }
  outputs: { publish: 'tcp://127.0.0.1:*', metrics: { port: 0 } }
`,
    'readiness.yaml',
  );

const readyGauge = async (s: FusionService) => (await s.metrics.ready.get()).values[0]?.value;

describe('readiness', () => {
  it('is signalled (log line, smi_ready) once the SUB socket has connected; a driver waiting for the subscription on an XPUB loses nothing', async () => {
    // A port nobody listens on yet: the service starts, but is not ready.
    const probe = new XPublisher();
    await probe.bind('tcp://127.0.0.1:*');
    const endpoint = probe.lastEndpoint!;
    probe.close();
    const lines: string[] = [];
    const log = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _e, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    );
    const service = await FusionService.start(spec(endpoint), { log });
    cleanup.push(() => service.stop());
    let ready = false;
    void service.ready.then(() => (ready = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(ready).toBe(false);
    expect(await readyGauge(service)).toBe(0);
    expect(lines.some((l) => l.includes('"msg":"smi-fusion ready"'))).toBe(false);

    // The driver of README's example: an XPUB socket that waits for the service's subscription.
    const driver = new XPublisher({ linger: 0 });
    cleanup.push(() => driver.close());
    await driver.bind(endpoint);
    // One subscription per class of traffic (radar and odometry share the critical socket): the
    // driver waits for those of the topics it sends.
    const subscribed = new Set<string>();
    while (!subscribed.has('sensor/radar/') || !subscribed.has('sensor/ego/')) {
      const [subscription] = await driver.receive();
      expect(subscription![0]).toBe(1);
      subscribed.add(subscription!.subarray(1).toString());
    }
    await waitFor(() => ready, 5000, 'the service to be ready');
    expect(await readyGauge(service)).toBe(1);
    const line = JSON.parse(lines.find((l) => l.includes('"msg":"smi-fusion ready"'))!) as {
      endpoints: string[];
    };
    expect(line.endpoints).toEqual([endpoint]);
    // Sent right after the subscription arrived: the very first message is received.
    const now = process.hrtime.bigint();
    await driver.send(sensorFrame('ego', 'ego', 0, now, egoRecord(10)));
    await driver.send(sensorFrame('radar', 'radar_front', 0, now, radarTarget(30)));
    await waitFor(() => service.ingest.receivedOf(0) === 1, 5000, 'the first radar frame');
    expect(service.ingest.receivedOf(1)).toBe(1);
    expect(service.ingest.rejectedCount).toBe(0);
  });
});
