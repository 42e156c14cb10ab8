import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { FusionService } from './fusion-service.js';
import type { ReplaySpeed } from '../sensors/replay-source.js';
import { replayService } from '../test-support/replay.js';
import { FOXGLOVE_TOPICS } from '../io/drive-format.js';
import { LIVE_TOPICS } from '../io/foxglove-live-server.js';
import { decodeHeader } from '../wire/codec.js';
import { fixtureDrive } from '../test-support/drives.js';
import { FoxgloveViewer } from '../test-support/foxglove-viewer.js';
import { waitFor } from '../test-support/output-collector.js';

const log = pino({ level: process.env.TEST_LOG ?? 'silent' });
const LIMIT = 4 * 2 ** 20;

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

interface Run {
  outputs: Buffer[][];
  service: FusionService;
}

/**
 * Replays the cut-in fixture drive through a fresh service; with `viewers`, the Foxglove live view
 * is on and `viewers` is called with its URL (to connect) before playback starts.
 */
async function replay(
  speed: ReplaySpeed,
  viewers?: (url: string, service: FusionService) => Promise<void>,
): Promise<Run> {
  const path = await fixtureDrive('cut-in');
  const outputs: Buffer[][] = [];
  const { service, source } = await replayService(
    path,
    speed,
    log,
    { outputTap: (parts) => outputs.push(parts.map((p) => Buffer.from(p))) },
    undefined,
    (spec) => {
      if (viewers) spec.outputs.foxglove = { host: '127.0.0.1', port: 0, sendBufferBytes: LIMIT };
    },
  );
  cleanup.push(() => service.stop());
  if (viewers) await viewers(service.foxglove!.server.url, service);
  await source.play();
  await service.scheduler.whenIdle();
  return { outputs, service };
}

/** Outputs without the wall-clock field (publishedNs). */
const comparable = (outputs: Buffer[][]) =>
  outputs.map(([topic, header, payload]) => {
    const { publishedNs: _p, ...h } = decodeHeader(header!) as Record<string, unknown>;
    return { topic: topic!.toString(), h, payload: payload?.toString('hex') };
  });

function connect(url: string): FoxgloveViewer {
  const v = new FoxgloveViewer(url);
  cleanup.push(() => v.close());
  return v;
}

describe('Foxglove live view of the service', () => {
  it('a viewer that subscribes to everything and never reads changes nothing in the outputs; a reading one gets every plan and track list', async () => {
    const without = await replay('max');
    let stuck: FoxgloveViewer | undefined;
    let reader: FoxgloveViewer | undefined;
    const withViewers = await replay('max', async (url, service) => {
      stuck = connect(url);
      reader = connect(url);
      await stuck.subscribeAll();
      await reader.subscribeAll();
      const server = service.foxglove!.server;
      await waitFor(
        () => server.wants(LIVE_TOPICS.planStatus) && server.viewers().length === 2,
        5000,
        'subscriptions',
      );
      await new Promise((r) => setTimeout(r, 100)); // both viewers' subscribe requests processed
      stuck.stopReading();
    });
    // Same tracks and plans, in the same order, byte for byte.
    expect(comparable(withViewers.outputs)).toEqual(comparable(without.outputs));
    expect(withViewers.service.ingest.droppedCount).toBe(0);
    const fox = withViewers.service.foxglove!;
    const stats = fox.server.viewers();
    const plans = without.outputs.filter((o) => o[0]!.toString() === 'out/plan').length;
    const tracks = without.outputs.filter((o) => o[0]!.toString() === 'out/tracks').length;
    expect(plans).toBeGreaterThan(40);
    // The stuck viewer's queue stayed within its limit; what did not fit was dropped and counted.
    for (const s of stats) expect(s.maxBufferedBytes).toBeLessThanOrEqual(LIMIT);
    const stuckStats = stats.find((s) => s.dropped > 0)!;
    expect(stuckStats.droppedByClass.pointCloud).toBeGreaterThan(0);
    expect(fox.unreadable).toBe(0);
    // The reading viewer decoded every plan and track list the service published, in order.
    await waitFor(
      () => reader!.of(LIVE_TOPICS.planStatus).length >= plans,
      10_000,
      'every plan at the reading viewer',
    );
    await waitFor(() => reader!.of(FOXGLOVE_TOPICS.tracks).length >= tracks, 10_000, 'every track list');
    expect(reader!.errors).toEqual([]);
    const seqs = reader!.of(LIVE_TOPICS.planStatus).map((m) => m.value.seq);
    expect(seqs).toEqual([...Array(plans).keys()]);
    expect(reader!.of(`${FOXGLOVE_TOPICS.lidarPrefix}lidar_top`).length).toBeGreaterThan(0);
    // Odometry (100 Hz) is thinned to 25 Hz of stamp: 2 s of drive.
    expect(reader!.of(FOXGLOVE_TOPICS.odometry).length).toBe(50);
    expect(reader!.of(LIVE_TOPICS.latency).length).toBe(plans);
  });

  it('live (speed 1): a stuck viewer costs a bounded amount of work, whatever the length of the drive', async () => {
    // Timing comparisons between two paced runs are dominated by other load on this shared
    // 2-core machine (without a viewer: 18 to 57 plans, 0 to 223 pool drops in three runs), so the
    // comparison with no viewer is the deterministic test above; here the stuck viewer's cost.
    const withViewer = await replay(1, async (url, service) => {
      const v = connect(url);
      await v.subscribeAll();
      await waitFor(() => service.foxglove!.server.wantsPointCloud('lidar_top'), 5000, 'the subscriptions');
      v.stopReading();
    });
    const server = withViewer.service.foxglove!.server;
    const viewer = server.viewers()[0]!;
    expect(viewer.maxBufferedBytes).toBeLessThanOrEqual(LIMIT);
    // Scans (about 1 MB each here) are encoded only while the viewer's point-cloud share has room:
    // a handful, then never again; every later one is skipped without being touched.
    // (At speed 1 scans are ingested on the lidar thread and the view samples the pool for the
    // newest one at twice the lidar rate, so it may see a few less than the drive's 20.)
    expect(server.counts.pointCloudsEncoded).toBeLessThanOrEqual(6);
    expect(viewer.droppedByClass.plan).toBe(0);
    expect(viewer.droppedByClass.pointCloud).toBe(server.counts.pointCloudsSkipped);
    // Drops are reported to the viewer (none happen when overload shed the view altogether).
    if (server.counts.pointCloudsSkipped > 0) expect(viewer.statusSent).toBeGreaterThan(0);
    expect(withViewer.service.foxglove!.unreadable).toBe(0);
  });
});
