import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { defaultPipelineSpec } from '../smi/spec/pipeline-spec.js';
import { encodeHeader, sensorTopic } from '../wire/codec.js';
import { makeSensorHeader } from '../wire/header-validator.js';
import { openIndexed, readAll, tempDir } from '../test-support/drives.js';
import { driveMetadata } from '../io/drive-metadata.js';
import { META } from '../io/drive-format.js';
import { DriveRecorder } from './drive-recorder.js';

const dir = tempDir('recorder');
const log = pino({ level: 'silent' });

function lidarFrame(seq: number, points: number): Uint8Array[] {
  const header = encodeHeader(
    makeSensorHeader('lidar', 'lidar_top', seq, BigInt(seq) * 100_000_000n, points),
  );
  return [
    Buffer.from(sensorTopic('lidar', 'lidar_top')),
    header,
    new Uint8Array(points * 16).fill(seq & 0xff),
  ];
}

describe('DriveRecorder', () => {
  it('drops and counts what a slow disk cannot take, never blocks the caller, and still ends with a valid indexed file', async () => {
    const spec = defaultPipelineSpec();
    const registry = new Registry();
    const path = join(dir, 'slow-disk.mcap');
    const recorder = await DriveRecorder.start({
      path,
      spec,
      log,
      registry,
      metadata: driveMetadata({ producer: 'record', spec, startNs: 0n, clock: 'host-monotonic' }),
      compression: 'none',
      queueBytes: 4 * 1024 * 1024,
      throttleBytesPerSec: 4 * 1024 * 1024, // a disk far slower than the 10 scans/s offered below
    });
    let accepted = 0;
    const offered = 60;
    for (let seq = 0; seq < offered; seq++) {
      if (recorder.record(lidarFrame(seq, 20_000), BigInt(seq) * 1_000_000n)) accepted++;
      // Offer at ~4 x the disk's rate: 320 KB every 20 ms.
      await new Promise((r) => setTimeout(r, 20));
    }
    recorder.record([Buffer.from('not/a/sensor'), new Uint8Array(1)], 1n); // unrecordable: counted, skipped
    const summary = await recorder.stop(5000);
    expect(summary.error).toBeUndefined();
    expect(summary.offered).toBe(offered + 1);
    expect(summary.queued).toBe(accepted);
    expect(summary.dropped).toBe(offered + 1 - accepted);
    expect(summary.dropped).toBeGreaterThan(10);
    expect(summary.channels['sensor/lidar/lidar_top']).toEqual({
      offered,
      queued: accepted,
      dropped: offered - accepted,
    });
    expect(summary.channels.other).toEqual({ offered: 1, queued: 0, dropped: 1 });
    expect(summary.written + summary.unwritten).toBe(accepted);
    const metrics = await registry.getSingleMetricAsString('smi_recorder_dropped_total');
    expect(metrics).toContain(
      `smi_recorder_dropped_total{channel="sensor/lidar/lidar_top"} ${offered - accepted}`,
    );

    const indexed = await openIndexed(path);
    const lidar = [...indexed.channelsById.values()].find((c) => c.topic === 'sensor/lidar/lidar_top')!;
    expect(indexed.statistics?.channelMessageCounts.get(lidar.id)).toBe(BigInt(summary.written));
    const { records, result } = await readAll(path);
    expect(result.complete).toBe(true);
    const end = records.find((r) => r.type === 'metadata' && r.name === META.summary);
    expect(end?.type === 'metadata' && end.entries.dropped).toBe(String(summary.dropped));
    // Written scans are whole and in order.
    let last = -1;
    for (const r of records) {
      if (r.type !== 'message' || r.message.channel.topic !== 'sensor/lidar/lidar_top') continue;
      expect(r.message.data.byteLength).toBeGreaterThan(320_000);
      expect(r.message.sequence).toBeGreaterThan(last);
      last = r.message.sequence;
    }
  });

  it('stops with an error and a metric when the disk fills (size limit), keeps the file readable to its last chunk, and refuses more', async () => {
    const spec = defaultPipelineSpec();
    const registry = new Registry();
    const path = join(dir, 'full-disk.mcap');
    const lines: Record<string, unknown>[] = [];
    const recorder = await DriveRecorder.start({
      path,
      spec,
      log: pino(
        { level: 'error' },
        { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) },
      ),
      registry,
      metadata: driveMetadata({ producer: 'record', spec, startNs: 0n, clock: 'host-monotonic' }),
      compression: 'none',
      chunkBytes: 256 * 1024,
      maxBytes: 2_000_000,
    });
    // 320 KB scans (and their Foxglove point clouds) in 256 KB chunks: the fourth chunk passes 2 MB.
    let seq = 0;
    const end = Date.now() + 20_000;
    while (
      !(await registry.getSingleMetricAsString('smi_recorder_failed')).endsWith(' 1') &&
      Date.now() < end
    ) {
      recorder.record(lidarFrame(seq++, 20_000), BigInt(seq) * 1_000_000n);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(await registry.getSingleMetricAsString('smi_recorder_failed')).toMatch(/smi_recorder_failed 1$/);
    // Once failed, more is refused at once (counted as dropped), never queued or blocking.
    expect(recorder.record(lidarFrame(seq++, 20_000), BigInt(seq) * 1_000_000n)).toBe(false);
    const summary = await recorder.stop(5000);
    expect(summary.error).toMatch(/size limit of 2000000 bytes is reached/);
    expect(lines.some((l) => l.msg === 'recording failed; the service goes on without it')).toBe(true);
    expect(summary.dropped).toBeGreaterThanOrEqual(1);
    const { records, result } = await readAll(path);
    expect(result.complete).toBe(false); // no index: the end was never written
    const scans = records.filter(
      (r) => r.type === 'message' && r.message.channel.topic === 'sensor/lidar/lidar_top',
    );
    expect(scans.length).toBeGreaterThanOrEqual(2); // each scan also has its Foxglove view: ~650 KB a chunk
    for (const r of scans) expect(r.type === 'message' && r.message.data.byteLength).toBeGreaterThan(320_000);
  });

  it('fails to start on a disk that is already full (/dev/full), naming the file and the error', async () => {
    const spec = defaultPipelineSpec();
    await expect(
      DriveRecorder.start({ path: '/dev/full', spec, log, metadata: {}, compression: 'none' }),
    ).rejects.toThrow(/cannot record to \/dev\/full: .*ENOSPC/);
  });

  it('fails to start with a message naming the file when it cannot be created', async () => {
    const spec = defaultPipelineSpec();
    await expect(
      DriveRecorder.start({ path: join(dir, 'no/such/dir/x.mcap'), spec, log, metadata: {} }),
    ).rejects.toThrow(/cannot record to .*no\/such\/dir\/x\.mcap: .*cannot create/);
  });
});
