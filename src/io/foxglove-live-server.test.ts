import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { DEFAULT_RIG } from '../wire/rig.js';
import { GT } from '../wire/ground-truth.js';
import { TRACK } from '../wire/layouts.js';
import { waitFor } from '../test-support/output-collector.js';
import { FoxgloveViewer } from '../test-support/foxglove-viewer.js';
import { FOXGLOVE_TOPICS } from './drive-format.js';
import { FoxgloveLiveServer, LIVE_TOPICS, SEND_CLASSES } from './foxglove-live-server.js';

const log = pino({ level: 'silent' });
const LIDAR = `${FOXGLOVE_TOPICS.lidarPrefix}lidar_top`;

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function startServer(sendBufferBytes?: number) {
  const registry = new Registry();
  const server = await FoxgloveLiveServer.start({
    host: '127.0.0.1',
    port: 0,
    sendBufferBytes,
    sensors: DEFAULT_RIG,
    log,
    registry,
  });
  cleanup.push(() => server.close());
  return { server, registry };
}

function viewer(url: string): FoxgloveViewer {
  const v = new FoxgloveViewer(url);
  cleanup.push(() => v.close());
  return v;
}

/** `n` lidar points with distinct values. */
function cloud(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n * 4 }, (_, i) => seed + i * 0.001);
}

function tracksPayload(): Uint8Array {
  const t = new Float32Array(2 * TRACK.stride);
  t.set([7, 1, 20, 0.5, 15, 0, 0, 0, 4.5, 1.9, 0.1, 0.9], 0);
  t.set([9, 3, 8, -3, 0, 1.2, 0, 0, 0.6, 0.6, 0, 0.8], TRACK.stride);
  return new Uint8Array(t.buffer);
}

const plan = (seq: number) => ({
  stampNs: 2_000_000_000n + BigInt(seq),
  seq,
  count: 3,
  decision: 'follow',
  leadId: 7,
  targetAccel: -0.5,
  ttc: 4.2,
});
const trajectory = new Uint8Array(Float32Array.from([0, 0, 0, 20, 0.1, 2, 0, 20, 0.2, 4, 0.1, 19.9]).buffer);

describe('FoxgloveLiveServer', () => {
  it('streams every view to a ws-protocol client, which decodes each message with the advertised schema', async () => {
    const { server } = await startServer();
    const v = viewer(server.url);
    const all = await v.subscribeAll();
    expect(all.map((c) => c.topic).sort()).toEqual(
      [
        LIDAR,
        FOXGLOVE_TOPICS.tracks,
        FOXGLOVE_TOPICS.groundTruth,
        FOXGLOVE_TOPICS.calibration,
        FOXGLOVE_TOPICS.odometry,
        LIVE_TOPICS.plan,
        LIVE_TOPICS.planStatus,
        LIVE_TOPICS.latency,
      ].sort(),
    );
    await waitFor(
      () => server.wants(LIVE_TOPICS.latency) && server.wantsPointCloud('lidar_top'),
      5000,
      'subscriptions',
    );
    const points = cloud(1000, 1);
    server.offerPointCloud('lidar_top', 1_500_000_000n, points, 1000);
    server.offerTracks({ stampNs: 1_600_000_000n, count: 2 }, tracksPayload());
    server.offerPlan(plan(3), trajectory);
    const truth = new Float32Array(GT.stride).fill(1);
    server.offerGroundTruth(1_700_000_000n, truth, 1);
    server.offerOdometry(1_800_000_000n, 10, 2, 0.5);
    server.offerCalibration(1_900_000_000n);
    server.offerLatencies(2_000_000_000n, { ingest: 0.1, fusion: 3.5, e2e: 7.25 });
    await waitFor(() => v.messages.length >= 8 || v.errors.length > 0, 5000, 'one message per channel');
    expect(v.errors).toEqual([]);

    const pc = v.of(LIDAR)[0]!;
    expect(pc.timestampNs).toBe(1_500_000_000n);
    expect(pc.value.frame_id).toBe('lidar_top');
    expect(pc.value.point_stride).toBe(16);
    const data = pc.value.data as Uint8Array;
    expect(Buffer.from(data).equals(Buffer.from(points.buffer))).toBe(true);

    const scene = v.of(FOXGLOVE_TOPICS.tracks)[0]!.value as {
      entities: { cubes: { pose: { position: { x: number } } }[] }[];
    };
    expect(scene.entities[0]!.cubes.map((c) => c.pose.position.x)).toEqual([20, 8]);

    const line = v.of(LIVE_TOPICS.plan)[0]!.value as {
      entities: { lines: { points: { x: number; y: number }[] }[] }[];
    };
    expect(line.entities[0]!.lines[0]!.points.map((p) => Math.round(p.x))).toEqual([0, 2, 4]);
    expect(v.of(LIVE_TOPICS.planStatus)[0]!.value).toMatchObject({
      decision: 'follow',
      lead_id: 7,
      ttc: 4.2,
      seq: 3,
    });
    expect(v.of(LIVE_TOPICS.latency)[0]!.value).toMatchObject({
      ingest_ms: 0.1,
      fusion_ms: 3.5,
      e2e_ms: 7.25,
    });
    expect(v.of(FOXGLOVE_TOPICS.odometry)[0]!.value).toMatchObject({
      parent_frame_id: 'odom',
      child_frame_id: 'base_link',
    });
    const cal = v.of(FOXGLOVE_TOPICS.calibration)[0]!.value as { transforms: { child_frame_id: string }[] };
    expect(cal.transforms).toHaveLength(DEFAULT_RIG.length - 1);
    expect(v.of(FOXGLOVE_TOPICS.groundTruth)).toHaveLength(1);
  });

  it('encodes nothing for a channel nobody subscribed to', async () => {
    const { server } = await startServer();
    const v = viewer(server.url);
    await v.subscribe([FOXGLOVE_TOPICS.tracks]);
    await waitFor(() => server.wants(FOXGLOVE_TOPICS.tracks), 5000, 'the subscription');
    for (let i = 0; i < 5; i++) server.offerPointCloud('lidar_top', BigInt(i + 1), cloud(100, i), 100);
    server.offerTracks({ stampNs: 10n, count: 2 }, tracksPayload());
    await waitFor(() => v.messages.length >= 1, 5000, 'the tracks');
    expect(server.counts.pointCloudsEncoded).toBe(0);
    expect(v.of(LIDAR)).toHaveLength(0);
  });

  it('drops point clouds first for a slow viewer, keeps plans and tracks flowing, counts the drops and tells the viewer', async () => {
    const limit = 4 * 2 ** 20;
    const { server, registry } = await startServer(limit);
    const v = viewer(server.url);
    await v.subscribeAll();
    await waitFor(
      () => server.wantsPointCloud('lidar_top') && server.wants(LIVE_TOPICS.plan),
      5000,
      'subscriptions',
    );
    v.stopReading();
    const scan = cloud(100_000, 3); // 1.6 MB, like a 64-beam scan
    const rounds = 60;
    for (let i = 0; i < rounds; i++) {
      server.offerPointCloud('lidar_top', BigInt(1000 + i), scan, 100_000);
      server.offerTracks({ stampNs: BigInt(1000 + i), count: 2 }, tracksPayload());
      server.offerPlan(plan(i), trajectory);
      // Let the socket take what it can, as a live service's event loop does between messages.
      await new Promise((r) => setImmediate(r));
    }
    const stats = server.viewers()[0]!;
    expect(stats.droppedByClass.pointCloud).toBeGreaterThan(10);
    expect(stats.droppedByClass.plan).toBe(0);
    expect(stats.droppedByClass.tracks).toBe(0);
    // The queue never grew past the limit (plus the one message that found room under it).
    expect(stats.maxBufferedBytes).toBeLessThanOrEqual(limit);
    // Once no viewer had room, point clouds were not even encoded.
    expect(server.counts.pointCloudsEncoded).toBeLessThan(rounds - 10);
    expect(server.counts.pointCloudsSkipped).toBeGreaterThan(0);
    v.resumeReading();
    await waitFor(() => v.of(LIVE_TOPICS.planStatus).length === rounds, 20_000, 'every plan status');
    await waitFor(
      () => v.of(LIVE_TOPICS.plan).length === rounds && v.of(FOXGLOVE_TOPICS.tracks).length === rounds,
      10_000,
      'every plan and track list',
    );
    expect(v.errors).toEqual([]);
    expect(v.of(LIVE_TOPICS.planStatus).map((m) => m.value.seq)).toEqual([...Array(rounds).keys()]);
    expect(v.of(LIDAR).length).toBe(rounds - stats.droppedByClass.pointCloud);
    const status = v.statuses.find((s) => s.message.startsWith('Send buffer limit reached'));
    expect(status?.level).toBe(1); // warning
    expect(status?.message).toMatch(
      /dropped \d+ messages for this viewer \(\d+ point clouds, 0 ground truth\/latency, 0 tracks\/transforms, 0 plans\)/,
    );
    const text = await registry.metrics();
    expect(text).toMatch(
      new RegExp(`smi_foxglove_dropped_total\\{topic="${LIDAR}"\\} ${stats.droppedByClass.pointCloud}`),
    );
    expect(text).not.toMatch(/smi_foxglove_dropped_total\{topic="\/foxglove\/plan"\}/);
    expect(text).toMatch(/smi_foxglove_viewers 1/);
    expect(SEND_CLASSES.pointCloud.share).toBeLessThan(SEND_CLASSES.tracks.share);
  });

  it('says which host and port it cannot listen on', async () => {
    const { server } = await startServer();
    const port = Number(new URL(server.url).port);
    await expect(
      FoxgloveLiveServer.start({ host: '127.0.0.1', port, sensors: DEFAULT_RIG, log }),
    ).rejects.toThrow(`foxglove live view: cannot listen on 127.0.0.1:${port}`);
  });
});
