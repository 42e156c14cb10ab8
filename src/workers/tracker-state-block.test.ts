import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { MultiSensorTracker } from '../fusion/multi-sensor-tracker.js';
import {
  LIDAR_16,
  recordScenario,
  replayCall,
  sceneCar,
  type RecordedCall,
} from '../fusion/synthetic-scene.test-helpers.js';
import { createPlanResult, Planner, type PlanResult } from '../planning/planner.js';
import { EGO, PLAN_POINT, TRACK, TRACK_QUALITY } from '../wire/layouts.js';
import { DETECTOR_RIG } from '../wire/rig.js';
import {
  TrackerStateBlock,
  createTrackerThreadState,
  type TrackerStateLayout,
  type TrackerThreadState,
} from './tracker-state-block.js';

const LAYOUT: TrackerStateLayout = { maxTracks: 256, sensors: DETECTOR_RIG, inputs: 5 };
const PLANNING = { accEnabled: true, cruiseSpeedMps: 20 };

let recorded: RecordedCall[] | undefined;
/** A 3 s drive behind a slower car, another cutting in after 1.6 s. */
function drive(): RecordedCall[] {
  recorded ??= recordScenario({
    durationS: 3,
    sensors: DETECTOR_RIG,
    ego: { x0: 0, y0: 0, yaw0: 0, speed: 16, yawRate: 0 },
    objects: [sceneCar(1, 35, 0, 12), sceneCar(2, 30, 3.5, 15, 0, { appearS: 1.6 })],
    seed: 3,
    lidar: LIDAR_16,
    outputEveryS: 10,
  });
  return recorded;
}

/** The tracker thread's loop in miniature: fuse a frame's calls, publish tracks, plan on them. */
class Pipeline {
  readonly tracker = new MultiSensorTracker(DETECTOR_RIG);
  readonly planner = new Planner(PLANNING);
  readonly thread: TrackerThreadState = createTrackerThreadState(LAYOUT.inputs);
  readonly tracks = new Float32Array(64 * TRACK.stride);
  readonly quality = new Float32Array(64 * TRACK_QUALITY.stride);
  readonly plan: PlanResult = createPlanResult();
  readonly trajectory = new Float32Array(64 * PLAN_POINT.stride);
  count = 0;

  frame(calls: readonly RecordedCall[]): void {
    for (const c of calls) {
      replayCall(this.tracker, c);
      if (c.kind === 'ingestEgo') {
        this.thread.ego.set(c.data);
        this.thread.egoStampNs = c.stamp;
      } else this.thread.newestFusedNs = c.stamp;
      this.thread.consumed[Math.max(0, c.index) % LAYOUT.inputs]!++;
    }
    const stamp = calls.at(-1)!.stamp;
    this.count = this.tracker.writeTracks(stamp, this.tracks, this.quality);
    this.thread.tracksSeq++;
    this.planner.plan(
      { tracks: this.tracks, quality: this.quality, count: this.count, ego: this.thread.ego, stampNs: stamp },
      this.plan,
      this.trajectory,
    );
    this.thread.planSeq++;
    this.thread.savedAtNs = stamp;
  }

  /** Published bytes of the last frame: tracks, quality, trajectory (and the plan, compared apart). */
  bytes(): Buffer {
    return Buffer.concat([
      Buffer.from(this.tracks.buffer, 0, this.count * TRACK.stride * 4),
      Buffer.from(this.quality.buffer, 0, this.count * TRACK_QUALITY.stride * 4),
      Buffer.from(this.trajectory.buffer, 0, this.plan.pointCount * PLAN_POINT.stride * 4),
    ]);
  }
}

function frames(calls: readonly RecordedCall[]): RecordedCall[][] {
  const out: RecordedCall[][] = [];
  let start = 0;
  calls.forEach((c, i) => {
    if (c.kind === 'ingestLidar') {
      out.push(calls.slice(start, i + 1));
      start = i + 1;
    }
  });
  return out;
}

describe('TrackerStateBlock', () => {
  it('restores tracker, planner and thread state into fresh ones that go on bit for bit as the original', () => {
    const fs = frames(drive());
    const block = TrackerStateBlock.create(LAYOUT);
    const original = new Pipeline();
    expect(block.info()).toEqual({
      saves: 0,
      activeBank: -1,
      savedAtNs: undefined,
      generation: -1,
      bytes: block.sab.byteLength,
    });
    expect(block.restore(new Pipeline().tracker, new Planner(PLANNING), createTrackerThreadState(5))).toBe(
      false,
    );
    const k = 14;
    for (let f = 0; f < k; f++) {
      original.frame(fs[f]!);
      block.save(original.tracker, original.planner, original.thread); // after each published output
    }
    expect(original.plan.leadId).toBeGreaterThan(0); // the planner is following the slower car
    expect(block.info()).toMatchObject({
      saves: k,
      activeBank: (k - 1) % 2,
      savedAtNs: original.thread.savedAtNs,
    });

    // The replacement thread: its own view of the same memory, fresh tracker and planner.
    const attached = TrackerStateBlock.attach(block.sab, LAYOUT);
    const fresh = new Pipeline();
    expect(attached.restore(fresh.tracker, fresh.planner, fresh.thread)).toBe(true);
    expect(fresh.thread).toEqual(original.thread);
    expect(fresh.planner).toEqual(original.planner);
    expect(fresh.tracker.stats).toEqual(original.tracker.stats);
    const idsBefore = new Set(
      Array.from({ length: original.count }, (_, i) => original.tracks[i * TRACK.stride]),
    );
    let newTracks = 0;
    for (let f = k; f < fs.length; f++) {
      original.frame(fs[f]!);
      fresh.frame(fs[f]!);
      expect(fresh.bytes().equals(original.bytes())).toBe(true);
      expect(fresh.plan).toEqual(original.plan);
      expect(fresh.thread).toEqual(original.thread);
      attached.save(fresh.tracker, fresh.planner, fresh.thread); // the replacement goes on saving
      const ids = Array.from({ length: fresh.count }, (_, i) => fresh.tracks[i * TRACK.stride]!);
      newTracks = ids.filter((id) => !idsBefore.has(id)).length;
    }
    expect(newTracks).toBeGreaterThanOrEqual(1); // the cut-in car, with an id after the old ones
    expect(block.info().saves).toBe(fs.length);
  });

  it('keeps the previous save when a save stops before publishing, dies midway or leaves a bank corrupt', () => {
    const fs = frames(drive());
    const block = TrackerStateBlock.create(LAYOUT);
    const p = new Pipeline();
    for (let f = 0; f < 10; f++) p.frame(fs[f]!);
    block.save(p.tracker, p.planner, p.thread);
    // What a replacement must get: a copy of this state, restored from the block now.
    const expected = new Pipeline();
    expect(block.restore(expected.tracker, expected.planner, expected.thread)).toBe(true);
    const saved = { ...expected.thread, ego: expected.thread.ego.slice() };
    const check = (): void => {
      const r = new Pipeline();
      expect(block.restore(r.tracker, r.planner, r.thread)).toBe(true);
      expect(r.thread).toEqual(saved);
      expect(r.planner).toEqual(expected.planner);
      r.frame(fs[10]!);
      const e = new Pipeline();
      block.restore(e.tracker, e.planner, e.thread);
      e.frame(fs[10]!);
      expect(r.bytes().equals(e.bytes())).toBe(true);
      expect(r.thread.tracksSeq).toBe(11);
    };

    p.frame(fs[10]!);
    p.frame(fs[11]!);
    // 1. The bank is written but never published (the writer stopped between the halves).
    const bank = block.writeInactiveBank(p.tracker, p.planner, p.thread);
    expect(bank).toBe(1);
    expect(block.info()).toMatchObject({ saves: 1, activeBank: 0 });
    check();

    // 2. The writer dies inside the bank write: the tracker part is written, then the planner's
    // save throws (a field of a type the block cannot hold).
    const aeb = (p.planner as unknown as { aeb: { cause: string } }).aeb;
    const cause = aeb.cause;
    aeb.cause = 'corrupted';
    expect(() => block.save(p.tracker, p.planner, p.thread)).toThrow(
      'Planner.aeb.cause: was one of none|ttc|required_decel|hold when the codec was built, holds the string "corrupted" now',
    );
    aeb.cause = cause;
    expect(block.info()).toMatchObject({ saves: 1, activeBank: 0 });
    check();
    // A bank left half-written cannot be published.
    expect(() => block.publish(1)).toThrow('tracker state block: bank 1 is not completely written');

    // 3. The inactive bank is garbage.
    const bytes = new Uint8Array(block.sab);
    const bankBytes = (block.sab.byteLength - 64) / 2;
    for (let i = 64 + bankBytes; i < bytes.length; i++) bytes[i] = (i * 131) & 0xff;
    check();

    // And the next complete save takes over.
    block.save(p.tracker, p.planner, p.thread);
    expect(block.info()).toMatchObject({ saves: 2, activeBank: 1, savedAtNs: p.thread.savedAtNs });
    const r = new Pipeline();
    block.restore(r.tracker, r.planner, r.thread);
    expect(r.thread.tracksSeq).toBe(12);
  });

  it('refuses a block laid out for another layout, naming what differs', () => {
    const block = TrackerStateBlock.create(LAYOUT);
    const attach = (l: Partial<TrackerStateLayout>) => () =>
      TrackerStateBlock.attach(block.sab, { ...LAYOUT, ...l });
    expect(attach({ maxTracks: 1024 })).toThrow(
      'tracker state block: laid out for maxTracks 256, attached with 1024',
    );
    expect(attach({ inputs: 4 })).toThrow('tracker state block: laid out for input count 5, attached with 4');
    expect(attach({ sensors: DETECTOR_RIG.slice(1) })).toThrow(
      `tracker state block: laid out for sensor count ${DETECTOR_RIG.length}, attached with ${DETECTOR_RIG.length - 1}`,
    );
    expect(attach({ planning: false })).toThrow(
      'tracker state block: laid out for planning (1: with planner state) 1, attached with 0',
    );
    const renamed = DETECTOR_RIG.map((s, i) => (i === 0 ? { ...s, id: 'lidar_other' } : s));
    expect(attach({ sensors: renamed })).toThrow(
      /layout fingerprint 0x[0-9a-f]{8}, attached with 0x[0-9a-f]{8}/,
    );
    expect(() => TrackerStateBlock.attach(new SharedArrayBuffer(block.sab.byteLength), LAYOUT)).toThrow(
      'tracker state block: no block in this buffer (bad magic)',
    );
    expect(() => TrackerStateBlock.attach(new SharedArrayBuffer(16), LAYOUT)).toThrow(
      'tracker state block: 16 bytes, less than its 64-byte header',
    );
    // A tracker, planner or thread state that does not fit is refused too.
    const small = new MultiSensorTracker(DETECTOR_RIG, { maxTracks: 64 });
    const thread = createTrackerThreadState(LAYOUT.inputs);
    expect(() => block.save(small, new Planner(), thread)).toThrow(
      'tracker state block: laid out for maxTracks 256, the tracker has 64',
    );
    const tracker = new MultiSensorTracker(DETECTOR_RIG);
    expect(() => block.save(tracker, undefined, thread)).toThrow(/carries planner state: pass the planner/);
    expect(() => block.save(tracker, new Planner(), createTrackerThreadState(2))).toThrow(
      /thread state with 6 ego values and 2 handled commits; the block has 6 and 5 \(inputs\)/,
    );
    // Without planning the block is smaller and takes no planner.
    const bare = TrackerStateBlock.create({ ...LAYOUT, planning: false });
    expect(bare.sab.byteLength).toBeLessThan(block.sab.byteLength);
    bare.save(tracker, undefined, thread);
    expect(bare.restore(new MultiSensorTracker(DETECTOR_RIG), undefined, thread)).toBe(true);
    expect(TrackerStateBlock.bytesFor(LAYOUT)).toBe(block.sab.byteLength);
  });

  it('leaves a complete save when its writer thread is terminated while saving in a loop', async () => {
    const dist = (p: string): string =>
      JSON.stringify(fileURLToPath(new URL(`../../dist/${p}`, import.meta.url)));
    const layout = { maxTracks: 1024, sensors: DETECTOR_RIG, inputs: 3 };
    const block = TrackerStateBlock.create(layout);
    // Each save i holds i everywhere: odometry records and counters, thread scalars, planner stamp.
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      Promise.all([import(${dist('workers/tracker-state-block.js')}), import(${dist('fusion/multi-sensor-tracker.js')}),
        import(${dist('planning/planner.js')}), import(${dist('wire/rig.js')})]).then(([b, t, p, rig]) => {
        const block = b.TrackerStateBlock.attach(workerData.sab, { ...workerData.layout, sensors: rig.DETECTOR_RIG });
        const tracker = new t.MultiSensorTracker(rig.DETECTOR_RIG, { maxTracks: 1024 });
        const planner = new p.Planner();
        const thread = b.createTrackerThreadState(3);
        const out = p.createPlanResult();
        const traj = new Float32Array(64 * 8);
        const none = new Float32Array(0);
        for (let i = 1; i < 1e7; i++) {
          thread.ego.fill(i);
          thread.ego[${EGO.speed}] = 10;
          thread.ego[${EGO.yawRate}] = 0;
          tracker.ingestEgo(thread.ego, BigInt(i) * 1000000n);
          planner.plan({ tracks: none, quality: none, count: 0, ego: thread.ego, stampNs: BigInt(i) * 1000000n }, out, traj);
          thread.tracksSeq = i; thread.planSeq = i; thread.generation = i;
          thread.egoStampNs = BigInt(i); thread.newestFusedNs = BigInt(i); thread.savedAtNs = BigInt(i);
          thread.consumed.fill(i);
          block.save(tracker, planner, thread);
          if (i === 20) parentPort.postMessage('saving');
        }
      });`;
    const w = new Worker(code, {
      eval: true,
      workerData: { sab: block.sab, layout: { maxTracks: 1024, inputs: 3 } },
    });
    await new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
      setTimeout(() => reject(new Error('worker did not start saving within 20 s')), 20_000).unref();
    });
    // Let it save for a while (bounded by count and time), then kill it wherever it is.
    const t0 = Date.now();
    while (block.info().saves < 300 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 5));
    await w.terminate();
    const saves = block.info().saves;
    expect(saves).toBeGreaterThan(20);

    const tracker = new MultiSensorTracker(DETECTOR_RIG, { maxTracks: 1024 });
    const planner = new Planner();
    const thread = createTrackerThreadState(3);
    expect(TrackerStateBlock.attach(block.sab, layout).restore(tracker, planner, thread)).toBe(true);
    // One save, whole: every part holds the same i, and it is the last or the one before (a save
    // under way when the thread died is not published).
    const i = thread.tracksSeq;
    expect(i === saves || i === saves - 1 || i === saves + 1).toBe(true);
    expect([thread.planSeq, thread.generation, Number(thread.savedAtNs), Number(thread.egoStampNs)]).toEqual([
      i,
      i,
      i,
      i,
    ]);
    expect([...thread.consumed]).toEqual([i, i, i]);
    expect(thread.ego[EGO.x]).toBe(i);
    expect(tracker.stats.egoRecords).toBe(i);
    expect((planner as unknown as { lastStampNs: bigint }).lastStampNs).toBe(BigInt(i) * 1000000n);
  }, 30_000);
});
