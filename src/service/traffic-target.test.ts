import { afterEach, describe, expect, it } from 'vitest';
import { Publisher } from 'zeromq';
import { FusionService } from './fusion-service.js';
import { parsePipelineSpec } from '../smi/spec/pipeline-spec.js';
import { createLogger } from '../telemetry/logger.js';
import { egoRecord, radarTarget, sensorFrame } from '../test-support/frames.js';

const log = createLogger('silent');
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function publisher(): Promise<{ pub: Publisher; endpoint: string }> {
  const pub = new Publisher({ linger: 0 });
  await pub.bind('tcp://127.0.0.1:*');
  closers.push(() => pub.close());
  return { pub, endpoint: pub.lastEndpoint! };
}

const rig = `  sensors:
    - { id: radar_front, kind: radar, rateHz: 20, mount: { x: 3.7, z: 0.5 }, fovDeg: 20, rangeM: 200 }
    - { id: cam_front, kind: camera, rateHz: 20, mount: { x: 2, z: 1.4 }, fovDeg: 60, rangeM: 120 }
    - { id: ego, kind: ego, rateHz: 100 }
  outputs: { publish: 'tcp://127.0.0.1:*', metrics: { enabled: false } }
  scheduler: { threadPriorities: false }
`;
const target = (name: string, body: string) =>
  `---\napiVersion: smi-fusion.dev/v1alpha1\nkind: TrafficTarget\nmetadata: { name: ${name} }\nspec:\n${body}`;

describe('TrafficTarget', () => {
  it('refuses an unlisted producer and a producer claiming another sensor id, over real sockets', async () => {
    const ecu = await publisher();
    const rogue = await publisher();
    const spec = parsePipelineSpec(
      `apiVersion: smi-fusion.dev/v1alpha1\nkind: Pipeline\nmetadata: { name: acl }\nspec:\n  sources:\n    - { type: zmq, name: radar-ecu, endpoints: ['${ecu.endpoint}'] }\n    - { type: zmq, name: rogue, endpoints: ['${rogue.endpoint}'] }\n${rig}` +
        target(
          'radar-writers',
          '  op: write\n  channels: [radar_front, ego]\n  subjects: [{ source: radar-ecu }]\n',
        ),
      'acl.yaml',
    );
    const service = await FusionService.start(spec, { log });
    closers.push(() => service.stop());
    await service.ready;
    const index = (id: string) => spec.sensors.findIndex((s) => s.id === id);
    const received = (id: string) => service.ingest.receivedOf(index(id));
    // Send until the allowed producer's frames arrive (SUB sockets join asynchronously), bounded.
    let seq = 0;
    const end = Date.now() + 10_000;
    const send = async () => {
      const stamp = process.hrtime.bigint();
      await ecu.pub.send(sensorFrame('ego', 'ego', seq, stamp, egoRecord(10)));
      await ecu.pub.send(sensorFrame('radar', 'radar_front', seq, stamp, radarTarget(30)));
      // The radar ECU claims the camera's id; the rogue claims the radar's.
      await ecu.pub.send(sensorFrame('camera', 'cam_front', seq, stamp, [0, 0.1, 0.05, 0.2, 0.9, 1, 0, 0]));
      await rogue.pub.send(sensorFrame('radar', 'radar_front', seq, stamp, radarTarget(5)));
      seq++;
    };
    while (Date.now() < end && (received('radar_front') < 5 || service.denials.size < 2)) {
      await send();
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(received('radar_front')).toBeGreaterThanOrEqual(5);
    const rogueDenied = service.denials.get('write radar_front source:rogue') ?? 0;
    const claimDenied = service.denials.get('write cam_front source:radar-ecu') ?? 0;
    expect(rogueDenied).toBeGreaterThan(0);
    expect(claimDenied).toBeGreaterThan(0);
    // Refused before ingest: the camera channel never saw a message; the radar's count is the ECU's only.
    expect(received('cam_front')).toBe(0);
    expect(received('radar_front')).toBeLessThanOrEqual(seq);
    const metrics = await service.metrics.text();
    expect(metrics).toMatch(
      new RegExp(
        `smi_access_denied_total\\{channel="radar_front",subject="source:rogue",op="write"\\} ${rogueDenied}\\b`,
      ),
    );
    expect(service.status().status.denials).toMatchObject({ 'write radar_front source:rogue': rogueDenied });
  }, 30_000);

  it('a stage may not read a channel a read rule keeps from it: its reader is not opened', async () => {
    const spec = parsePipelineSpec(
      `apiVersion: smi-fusion.dev/v1alpha1\nkind: Pipeline\nmetadata: { name: acl }\nspec:\n  sources: [{ type: zmq, endpoints: ['tcp://127.0.0.1:1'] }]\n${rig}` +
        target('camera-readers', '  op: read\n  channels: [cam_front]\n  subjects: [{ stage: tracker }]\n'),
      'acl.yaml',
    );
    const service = await FusionService.start(spec, { log });
    closers.push(() => service.stop());
    // camera-fusion may not read cam_front: refused when its readers were opened, counted once.
    expect(service.denials.get('read cam_front stage:camera-fusion')).toBe(1);
    const cameraFusion = service.graph.stages.find((s) => s.name === 'camera-fusion')!;
    expect(cameraFusion.inputs).toEqual([]);
    const cam = service.graph.channels.find((c) => c.name === 'cam_front')!;
    expect(cam.consumer).toBe(-1);
    expect(await service.metrics.text()).toMatch(
      /smi_access_denied_total\{channel="cam_front",subject="stage:camera-fusion",op="read"\} 1\b/,
    );
  }, 30_000);
});
