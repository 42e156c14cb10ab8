/**
 * Access over real ZeroMQ sockets: a zmq source off loopback needs `remote: true`; with a
 * `curve` block the service is a CURVE server that lets in only drivers whose public key is in
 * its keys file. An allowed driver's messages are fused; one with another key, or without CURVE,
 * never gets a message in, and each refused handshake is counted and logged.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Publisher, curveKeyPair } from 'zeromq';
import { capturedLog } from '../test-support/captured-log.js';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePipelineSpec } from '../smi/spec/pipeline-spec.js';
import { FileValidationError } from '../schema/yaml-file.js';
import { FusionService } from './fusion-service.js';
import { waitFor } from '../test-support/output-collector.js';
import { egoRecord, radarTarget, sensorFrame } from '../test-support/frames.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const spec = (source: string, dir = '/tmp') =>
  parsePipelineSpec(
    `apiVersion: smi-fusion.dev/v1alpha1
kind: Pipeline
metadata: { name: access }
spec:
  sources: [${source}]
  sensors:
    - { id: radar_front, kind: radar, rateHz: 20, mount: { x: 3.7, z: 0.5 }, fovDeg: 20, rangeM: 200 }
    - { id: ego, kind: ego, rateHz: 100 }
  outputs: { publish: 'tcp://127.0.0.1:*', metrics: { enabled: false } }
`,
    join(dir, 'access.yaml'),
  );

describe('zmq source access', () => {
  it('refuses an endpoint off loopback unless the spec opts in with remote: true', () => {
    for (const ep of ['tcp://0.0.0.0:5555', 'tcp://*:5555', 'tcp://192.168.1.20:5555', 'tcp://[::]:5555']) {
      expect(() => spec(`{ type: zmq, endpoints: ['${ep}'], bind: true }`)).toThrow(FileValidationError);
      expect(() => spec(`{ type: zmq, endpoints: ['${ep}'], bind: true }`)).toThrow(
        /spec\.sources\[0\]\.endpoints\[0\]: .* is not on loopback; set remote: true/,
      );
      expect(spec(`{ type: zmq, endpoints: ['${ep}'], bind: true, remote: true }`).sources[0]).toMatchObject({
        remote: true,
      });
    }
    for (const ep of [
      'tcp://127.0.0.1:5555',
      'tcp://localhost:5555',
      'tcp://[::1]:5555',
      'ipc:///tmp/x.sock',
    ]) {
      expect(spec(`{ type: zmq, endpoints: ['${ep}'] }`).sources[0]).toMatchObject({ remote: false });
    }
  });

  it('with curve, fuses an allowed driver and refuses (and counts) one with another key or none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smi-curve-'));
    const server = curveKeyPair();
    const allowed = curveKeyPair();
    const stranger = curveKeyPair();
    writeFileSync(join(dir, 'service.key'), `# the service's secret key\n${server.secretKey}\n`, {
      mode: 0o600,
    });
    writeFileSync(join(dir, 'drivers.pub'), `# drivers allowed in\n${allowed.publicKey}\n`);
    const { log, records: logs } = capturedLog();
    // A world-readable secret key is refused at start, naming the file.
    chmodSync(join(dir, 'service.key'), 0o644);
    const curve = `{ type: zmq, endpoints: ['tcp://127.0.0.1:*'], bind: true, curve: { secretKeyFile: service.key, clientKeysFile: drivers.pub } }`;
    await expect(FusionService.start(spec(curve, dir), { log })).rejects.toThrow(
      /service\.key is readable by group or others \(mode 644\); chmod 600 it/,
    );
    chmodSync(join(dir, 'service.key'), 0o600);
    const service = await FusionService.start(spec(curve, dir), { log });
    cleanup.push(() => service.stop());
    const endpoint = service.sourceEndpoints[0]!;
    expect(JSON.stringify(logs)).not.toContain(server.secretKey);

    const driver = (keys?: { publicKey: string; secretKey: string }) => {
      const pub = new Publisher({ linger: 0 });
      if (keys) {
        pub.curveServerKey = server.publicKey;
        pub.curvePublicKey = keys.publicKey;
        pub.curveSecretKey = keys.secretKey;
      }
      pub.connect(endpoint);
      cleanup.push(async () => pub.close());
      return pub;
    };
    const good = driver(allowed);
    const bad = driver(stranger);
    const plain = driver();
    const now = () => process.hrtime.bigint();
    let seq = 0;
    let badSeq = 0;
    await waitFor(
      () => {
        void good.send(sensorFrame('ego', 'ego', seq++, now(), egoRecord(20)));
        void bad.send(sensorFrame('radar', 'radar_front', badSeq++, now(), radarTarget(30)));
        void plain.send(sensorFrame('radar', 'radar_front', badSeq++, now(), radarTarget(30)));
        return service.ingest.receivedOf(1) >= 5;
      },
      10_000,
      'the allowed driver’s odometry',
    );
    for (let i = 0; i < 10; i++) {
      void bad.send(sensorFrame('radar', 'radar_front', badSeq++, now(), radarTarget(30)));
      void plain.send(sensorFrame('radar', 'radar_front', badSeq++, now(), radarTarget(30)));
      await sleep(20);
    }
    // Nothing from the stranger or the plain driver ever reached ingest.
    expect(service.ingest.receivedOf(0)).toBe(0);
    expect(service.ingest.rejectedCount).toBe(0);
    const text = await service.metrics.text();
    expect(text).toMatch(/smi_zmq_auth_total\{socket="all",result="accepted"\} [1-9]/);
    expect(text).toMatch(/smi_zmq_auth_total\{socket="all",result="refused"\} [1-9]/);
    const refused = logs.find(
      (l) => l.msg === 'zmq peer refused: its CURVE public key is not allowed' && l.clientKey !== '',
    );
    expect(refused?.clientKey).toBe(stranger.publicKey);
    expect(logs.find((l) => l.msg === 'zmq peer authenticated (CURVE)')?.clientKey).toBe(allowed.publicKey);
    expect(logs.some((l) => l.msg === 'zmq peer refused: no valid CURVE handshake')).toBe(true);
    expect(JSON.stringify(logs)).not.toContain(server.secretKey);
  }, 30_000);
});
