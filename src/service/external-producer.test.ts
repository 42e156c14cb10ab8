import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { Publisher } from 'zeromq';
import { pino } from 'pino';
import { parsePipelineSpec } from '../smi/spec/pipeline-spec.js';
import { FusionService } from './fusion-service.js';
import { STAGE_COUNTER } from '../workers/scheduler-block.js';
import { OutputCollector, waitFor } from '../test-support/output-collector.js';
import { buildLidarDriver } from '../test-support/c-driver.js';
import { egoRecord, sensorFrame } from '../test-support/frames.js';

const FRAMES = 30;
// x = seq + 0.5 i and y = i (the example driver's pattern) stay within the 1000 m plausible range
const POINTS = 1000;
let driver = '';
beforeAll(() => {
  driver = buildLidarDriver();
});

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const specText = (driverEndpoint: string, segment: string, implementation: string) => `
apiVersion: smi-fusion.dev/v1alpha1
kind: Pipeline
metadata: { name: external }
spec:
  sources: [{ type: zmq, endpoints: ['${driverEndpoint}'] }]
  sensors:
    - { id: lidar_top, kind: lidar, rateHz: 10, mount: { x: 1.3, z: 1.9 } }
    - { id: ego, kind: ego, rateHz: 100 }
  channels:
    lidar_top: { producer: external, slots: 8, slotBytes: ${POINTS * 16} }
  pool: { segment: ${segment}, implementation: ${implementation} }
  outputs: { publish: 'tcp://127.0.0.1:*', metrics: { enabled: false } }
`;

// Not skipped without the addon: `npm install` builds it here, so its absence is a failure to see.
describe('a C driver publishing straight into the running service', () => {
  it('is fused like any input: admitted, counted, fused, and every slot comes back', async () => {
    const zmqDriver = new Publisher({ linger: 0 });
    await zmqDriver.bind('tcp://127.0.0.1:*');
    cleanup.push(async () => zmqDriver.close());
    const segment = `/smi-fusion-ext-${process.pid}`;
    const service = await FusionService.start(
      parsePipelineSpec(specText(zmqDriver.lastEndpoint!, segment, 'native'), 'ext.yaml'),
      {
        log: pino({ level: 'silent' }),
      },
    );
    cleanup.push(() => service.stop());
    const out = new OutputCollector();
    out.connect(service.publishEndpoint);
    cleanup.push(() => out.close());
    const lidar = 0;
    let egoSeq = 0;
    // Odometry arrives over ZeroMQ as usual (the tracker needs it before it takes lidar scans).
    const ego = setInterval(
      () => void zmqDriver.send(sensorFrame('ego', 'ego', egoSeq++, process.hrtime.bigint(), egoRecord(0))),
      10,
    );
    cleanup.push(async () => clearInterval(ego));
    await waitFor(() => service.ingest.receivedOf(1) > 0, 5000, 'odometry over ZeroMQ');

    // The same sensor over ZeroMQ is refused: its channel belongs to the external producer.
    await zmqDriver.send(sensorFrame('lidar', 'lidar_top', 1, process.hrtime.bigint(), [1, 2, 3, 0.5]));
    await waitFor(() => service.ingest.rejectedCount === 1, 5000, 'the ZeroMQ lidar frame to be refused');

    const child = spawn(driver, ['publish', segment, 'lidar_top', String(FRAMES), String(POINTS)], {
      stdio: 'pipe',
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, stderr).toBe(0);

    // The lidar stage reads the newest scan (latest access): every frame is either admitted and
    // extracted, or superseded by a newer one before it was read; none is lost unaccounted.
    const superseded = () =>
      service.scheduler.block.get(service.graph.lidarStage, STAGE_COUNTER.shedSuperseded);
    await waitFor(
      () => service.ingest.receivedOf(lidar) + superseded() === FRAMES,
      10_000,
      `${FRAMES} frames from the C driver, admitted or superseded`,
    );
    expect(service.ingest.receivedOf(lidar)).toBeGreaterThan(0);
    await waitFor(() => service.pool.slotsInUse(lidar) === 0, 10_000, 'every lidar slot released');
    expect(service.ingest.rejectedCount).toBe(1);
    await waitFor(() => service.scheduler.idle(), 5000, 'the boxes to be fused');
    expect(service.scheduler.block.get(service.graph.trackerStage, STAGE_COUNTER.frames)).toBeGreaterThan(0);
    await out.until(() => out.of('out/tracks').length > 0, 5000, 'tracks');
    const text = await service.metrics.text();
    expect(text).toContain(
      `smi_ingest_received_total{sensor="lidar_top",kind="lidar"} ${service.ingest.receivedOf(lidar)}`,
    );
    expect(text).toContain('smi_ingest_rejected_total{sensor="lidar_top",reason="not_allowed"} 1');
  });

  it('refuses to start when an external channel has no shared-memory pool to write into', async () => {
    const spec = parsePipelineSpec(
      specText('tcp://127.0.0.1:1', `/smi-fusion-ext-js-${process.pid}`, 'auto'),
      'ext.yaml',
    );
    spec.pool.implementation = 'js';
    await expect(FusionService.start(spec, { log: pino({ level: 'silent' }) })).rejects.toThrow(
      /channels 'lidar_top' are written by an external producer, which needs the shared-memory pool/,
    );
  });
});

describe('external producer spec checks', () => {
  it('names the field when an external channel is combined with the pure-JS pool', () => {
    expect(() => parsePipelineSpec(specText('tcp://127.0.0.1:1', '/x', 'js'), 'ext.yaml')).toThrow(
      /ext\.yaml:\d+: spec\.channels\.lidar_top\.producer: an external producer writes through shared memory/,
    );
  });
});
