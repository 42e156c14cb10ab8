import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Writable } from 'node:stream';
import { McapWriter } from '@mcap/core';
import { pino, type Logger } from 'pino';
import { Publisher } from 'zeromq';
import { defaultPipelineSpec, type PipelineSpec } from '../smi/spec/pipeline-spec.js';
import { radarEgoSpec } from '../test-support/radar-ego-spec.js';
import { FusionService } from '../service/fusion-service.js';
import { DriveRecorder } from '../service/drive-recorder.js';
import { driveMetadata } from '../io/drive-metadata.js';
import { writeSimulatedDrive } from '../service/simulated-drive.js';
import { LEGACY_WIRE_ENCODING } from '../io/mcap-wire-message.js';
import { decodeHeader, encodeHeader, sensorTopic } from '../wire/codec.js';
import { makeSensorHeader } from '../wire/header-validator.js';
import { egoRecord, radarTarget, sensorFrame } from '../test-support/frames.js';
import { waitFor } from '../test-support/output-collector.js';
import { fixtureDrive, memoryWritable, tempDir } from '../test-support/drives.js';
import { replayService } from '../test-support/replay.js';
import { SCENARIO_DIR } from '../service/simulator-source.js';
import type { ReplayResult, ReplaySpeed } from './replay-source.js';

const dir = tempDir('replay');
const silent = pino({ level: 'silent' });
const copy = (parts: readonly Uint8Array[]) => parts.map((p) => Buffer.from(p));

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

interface Replayed {
  result: ReplayResult;
  inputs: Buffer[][];
  outputs: Buffer[][];
  committed: number;
  service: FusionService;
}

/** Replays a drive through a fresh service (its recorded pipeline, loopback outputs). */
async function replay(
  path: string,
  speed: ReplaySpeed,
  log: Logger = silent,
  spec?: PipelineSpec,
): Promise<Replayed> {
  const inputs: Buffer[][] = [];
  const outputs: Buffer[][] = [];
  let committed = 0;
  const { service, source } = await replayService(
    path,
    speed,
    log,
    {
      inputTap: (parts, _r, outcome) => {
        inputs.push(copy(parts));
        if (outcome === 'committed') committed++;
      },
      outputTap: (parts) => outputs.push(copy(parts)),
    },
    spec,
  );
  cleanup.push(() => service.stop());
  const result = await source.play();
  await service.scheduler.whenIdle();
  return { result, inputs, outputs, committed, service };
}

/** Output messages with the wall-clock part (publishedNs) taken out: what must be deterministic. */
function comparable(outputs: Buffer[][], driveStartNs: bigint) {
  return outputs.map(([topic, header, payload]) => {
    const h = decodeHeader(header!) as Record<string, unknown>;
    delete h.publishedNs;
    return {
      topic: topic!.toString(),
      header: { ...h, stampNs: (h.stampNs as bigint) - driveStartNs },
      payload: payload?.toString('hex'),
    };
  });
}

describe('replay of a recorded live ZeroMQ session', () => {
  it('records what the service received over real sockets and gives the same messages back', async () => {
    const driver = new Publisher({ linger: 0 });
    await driver.bind('tcp://127.0.0.1:*');
    cleanup.push(async () => driver.close());
    const spec = radarEgoSpec('live-session', driver.lastEndpoint!);
    const path = join(dir, 'live.mcap');
    const recorder = await DriveRecorder.start({
      path,
      spec,
      log: silent,
      metadata: driveMetadata({
        producer: 'record',
        spec,
        startNs: process.hrtime.bigint(),
        clock: 'host-monotonic',
      }),
    });
    const received: Buffer[][] = [];
    const live = await FusionService.start(spec, {
      log: silent,
      inputTap: (parts, receivedNs, outcome) => {
        received.push(copy(parts));
        recorder.inputTap(parts, receivedNs, outcome);
      },
      outputTap: recorder.outputTap,
    });
    let egoSeq = 0;
    await waitFor(
      () => {
        void driver.send(sensorFrame('ego', 'ego', egoSeq++, process.hrtime.bigint(), egoRecord(20)));
        return received.length > 0;
      },
      5000,
      'the service to receive over ZeroMQ',
    );
    let range = 40;
    for (let i = 0; i < 30; i++) {
      const now = process.hrtime.bigint();
      await driver.send(sensorFrame('ego', 'ego', egoSeq++, now, egoRecord(20)));
      await driver.send(sensorFrame('radar', 'radar_front', i, now, radarTarget(range, 5)));
      range -= 0.25;
      await new Promise((r) => setTimeout(r, 20));
    }
    // rejected: seq and stamp both back (a duplicate of an earlier message)
    await driver.send(
      sensorFrame('radar', 'radar_front', 0, process.hrtime.bigint() - 1_000_000_000n, radarTarget(30)),
    );
    // One connection delivers in order: once the last (bad) frame is rejected, everything has arrived.
    await waitFor(() => live.ingest.rejectedCount >= 1, 5000, 'the last frame (a duplicate) to be rejected');
    expect(received.length).toBeGreaterThanOrEqual(62);
    await live.stop();
    const summary = await recorder.stop();
    expect(summary.dropped).toBe(0);
    expect(summary.written).toBe(
      received.length +
        live.scheduler.telemetry.planStatus().cycles +
        live.scheduler.telemetry.planStatus().plans,
    );

    // Same bytes back, in the same order, at max speed (headers untouched) ...
    const fast = await replay(path, 'max');
    expect(fast.result.read.complete).toBe(true);
    expect(fast.inputs.length).toBe(received.length);
    fast.inputs.forEach((parts, i) =>
      expect(Buffer.concat(parts).equals(Buffer.concat(received[i]!))).toBe(true),
    );
    expect(fast.committed).toBe(received.length - 1); // the seq-backwards frame is rejected again
    expect(fast.outputs.filter((o) => o[0]!.toString() === 'out/tracks').length).toBeGreaterThan(20);

    // ... and at speed 1: the same payloads, stamps re-based onto this host's clock with the same spacing.
    const paced = await replay(path, 1);
    expect(paced.inputs.length).toBe(received.length);
    expect(paced.committed).toBe(received.length - 1);
    const stamp = (parts: Buffer[]) => (decodeHeader(parts[1]!) as { stampNs: bigint }).stampNs;
    paced.inputs.forEach((parts, i) => {
      expect(parts[2]!.equals(received[i]![2]!)).toBe(true);
      const { stampNs: _a, ...h } = decodeHeader(parts[1]!) as Record<string, unknown>;
      const { stampNs: _b, ...orig } = decodeHeader(received[i]![1]!) as Record<string, unknown>;
      expect(h).toEqual(orig);
      if (paced.result.stalls === 0) {
        expect(stamp(parts) - stamp(paced.inputs[0]!)).toBe(stamp(received[i]!) - stamp(received[0]!));
      }
    });
    expect(stamp(paced.inputs[0]!)).toBeGreaterThan(stamp(received.at(-1)!));
  });
});

describe('replay at max speed', () => {
  it('is deterministic: the same drive twice gives the same tracks and plans, byte for byte', async () => {
    const path = await fixtureDrive('cut-in');
    const a = await replay(path, 'max');
    await cleanup.pop()!();
    const b = await replay(path, 'max');
    const tracksA = comparable(a.outputs, a.result.driveStartNs);
    expect(tracksA.filter((o) => o.topic === 'out/tracks').length).toBeGreaterThan(40);
    expect(tracksA.some((o) => o.topic === 'out/tracks' && (o.header.count as number) > 0)).toBe(true);
    expect(comparable(b.outputs, b.result.driveStartNs)).toEqual(tracksA);
    expect(a.committed).toBe(a.result.offeredTotal);
  });

  it.each(readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.yaml')))(
    'plays a simulated drive of scenario %s through the pipeline',
    async (file) => {
      const spec = defaultPipelineSpec();
      const path = join(dir, `${basename(file, '.yaml')}.mcap`);
      const made = await writeSimulatedDrive({
        scenarioFile: join(SCENARIO_DIR, file),
        out: path,
        spec,
        durationS: 0.6,
        foxglove: false,
      });
      const r = await replay(path, 'max');
      expect(r.result.read.complete).toBe(true);
      expect(r.result.offeredTotal).toBe(made.sensorMessages);
      expect(r.committed).toBe(made.sensorMessages);
      expect(r.service.scheduler.telemetry.planStatus().cycles).toBeGreaterThan(5);
    },
  );
});

/** A message stored as drive format 1 did: u32 header length, header, payload. */
function legacyWireMessage(header: Uint8Array, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + header.byteLength + payload.byteLength);
  new DataView(out.buffer).setUint32(0, header.byteLength, true);
  out.set(header, 4);
  out.set(payload, 4 + header.byteLength);
  return out;
}

describe('replay of unknown channels', () => {
  it('plays a drive of format 1, lists each unknown channel once, skips it, and plays the rest', async () => {
    const path = join(dir, 'foreign.mcap');
    const spec = defaultPipelineSpec();
    const memory = memoryWritable();
    const writer = new McapWriter({ writable: memory.writable });
    await writer.start({ profile: '', library: 'test' });
    for (const [name, entries] of Object.entries(
      driveMetadata({ producer: 'record', spec, startNs: 0n, clock: 'scenario' }),
    ))
      await writer.addMetadata({ name, metadata: new Map(Object.entries(entries)) });
    const ch = async (topic: string, messageEncoding: string) =>
      writer.registerChannel({ topic, schemaId: 0, messageEncoding, metadata: new Map() });
    const ego = await ch(sensorTopic('ego', 'ego'), LEGACY_WIRE_ENCODING);
    const image = await ch('/camera/image', 'json');
    const stranger = await ch(sensorTopic('radar', 'radar_back'), LEGACY_WIRE_ENCODING);
    for (let i = 0; i < 5; i++) {
      const t = BigInt(i) * 10_000_000n;
      const e = new Float64Array(egoRecord(20));
      const egoMsg = legacyWireMessage(
        encodeHeader(makeSensorHeader('ego', 'ego', i, t, 1)),
        new Uint8Array(e.buffer),
      );
      const radarMsg = legacyWireMessage(
        encodeHeader(makeSensorHeader('radar', 'radar_back', i, t, 0)),
        new Uint8Array(0),
      );
      await writer.addMessage({ channelId: ego, sequence: i, logTime: t, publishTime: t, data: egoMsg });
      await writer.addMessage({
        channelId: image,
        sequence: i,
        logTime: t,
        publishTime: t,
        data: Buffer.from('{}'),
      });
      await writer.addMessage({
        channelId: stranger,
        sequence: i,
        logTime: t,
        publishTime: t,
        data: radarMsg,
      });
    }
    await writer.end();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, memory.bytes());

    const lines: string[] = [];
    const log = pino(
      { level: 'warn' },
      new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    );
    const r = await replay(path, 'max', log);
    expect(r.result.read.complete).toBe(true);
    expect(r.result.offeredTotal).toBe(5);
    expect(r.committed).toBe(5);
    expect([...r.result.skipped.keys()].sort()).toEqual(['/camera/image', 'sensor/radar/radar_back']);
    expect(r.result.skipped.get('sensor/radar/radar_back')).toMatch(/no such sensor/);
    expect(lines.filter((l) => l.includes('replay skips a channel'))).toHaveLength(2);
  });
});
