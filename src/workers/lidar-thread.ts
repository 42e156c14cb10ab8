/**
 * The lidar thread (high class): ingests lidar scans (its own ZeroMQ socket for `sensor/lidar/`,
 * or frames the simulator or a replay posts to it), so a 4 MiB copy never runs on the thread that
 * ingests critical messages; then extracts object boxes from the newest scan of each lidar
 * (LidarClusterer) and commits them to the lidar's `.boxes` channel, ringing the tracker. A scan
 * that can no longer make its deadline runs degraded (half the points on a 0.5 m grid) or is shed
 * before it starts; so is every scan when the overload level degrades the high class.
 */
import { CLUSTER, LidarClusterer, type LidarClustererConfig } from '../fusion/lidar-clusterer.js';
import { coarserParams } from './lidar-params.js';
import type { ChannelWriter, SlotPool } from '../pool/slot-pool.js';
import { ReadyQueue, emptyReadyFrame, type ReadyFrame } from '../smi/policy/ready-queue.js';
import { StageCostModel, admit } from '../smi/policy/admission.js';
import { LagDetector } from '../smi/policy/period-estimator.js';
import { LIDAR } from '../wire/layouts.js';
import type { SensorConfig } from '../wire/rig.js';
import { SAMPLE, STAGE_COUNTER, THREAD_TIMER, type SchedulerBlock } from './scheduler-block.js';
import type { StageInputs } from './stage-inputs.js';
import { SPAN } from './span-ring.js';
import type { LidarThreadData } from './stage-thread-protocol.js';

const MAX_CLUSTERS = 512;

export class LidarThread {
  private readonly ready: ReadyQueue;
  private readonly frame = emptyReadyFrame();
  private clusterer: LidarClusterer;
  /** Degraded: a coarser grid over every second point. */
  private coarse: LidarClusterer;
  private readonly decimated: Float32Array;
  private readonly boxes = new Float32Array(MAX_CLUSTERS * CLUSTER.stride);
  private readonly writers: Map<number, ChannelWriter>;
  private readonly cost = new StageCostModel();
  /** Degraded runs (half the points, coarser grid) cost differently: learned apart. */
  private readonly degradedCost = new StageCostModel();
  private readonly points: Float32Array[][];
  private readonly seqOut: Map<number, number> = new Map();
  private readonly lag: LagDetector;
  private scheduled = false;
  private faultPending = false;
  private closed = false;

  constructor(
    private readonly data: LidarThreadData,
    private readonly pool: SlotPool,
    private readonly block: SchedulerBlock,
    private readonly inputs: StageInputs,
    private readonly onError: (err: unknown) => void,
    private readonly onLag: (event: 'lagging' | 'recovered', averageMs: number, expectedMs: number) => void,
  ) {
    this.clusterer = new LidarClusterer(data.clustererParams);
    this.coarse = new LidarClusterer(coarserParams(data.clustererParams));
    this.ready = new ReadyQueue(Math.max(4, data.inputs.length * 2));
    this.lag = new LagDetector(1e9 / data.inputs.reduce((hz, i) => hz + i.rateHz, 0));
    // Boxes channel per lidar input, in input order; this thread is their only writer.
    this.writers = new Map(
      data.inputs.map((info, k) => [info.channel, pool.writer(data.boxesChannels[k]!, k)]),
    );
    const maxPoints = Math.max(
      ...data.inputs.map((i) => pool.channels[i.channel]!.slotBytes / (LIDAR.stride * 4)),
    );
    this.decimated = new Float32Array(Math.ceil(maxPoints / 2) * LIDAR.stride);
    this.points = pool.channels.map((ch) =>
      Array.from(
        { length: ch.slotCount },
        (_, s) => new Float32Array(pool.sab, ch.dataOffset + s * ch.slotBytes, ch.slotBytes >> 2),
      ),
    );
  }

  /** Runs extraction soon (after the messages already queued on this thread are ingested). */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      // A scan ingested while the thread stops (its socket closing) may schedule this after
      // close(): its readers are gone then (reading one would throw ReaderEvictedError).
      if (!this.closed) this.extract();
    });
  }

  /**
   * Waits for commits this thread does not make itself (the main thread ingesting in
   * deterministic replay, an external C driver) on its doorbell, without blocking the event loop.
   */
  async watch(): Promise<void> {
    const t = this.data.thread;
    while (!this.block.stopping) {
      const seen = this.block.rung(t);
      if (this.inputs.backlog() > 0) this.extract();
      this.lagChanged(this.data.stages[0]!.index, this.lag.tick(Number(process.hrtime.bigint())));
      await this.block.sleepAsync(t, seen, 20);
    }
  }

  /** Extracts boxes from the newest scan of each lidar that has one. */
  extract(): void {
    const f = this.frame;
    this.block.setBusy(this.data.thread, true);
    this.inputs.drain(this.ready, f);
    while (this.ready.pop(f)) this.runScan(f);
    this.block.setBusy(this.data.thread, false);
    this.block.ring(this.data.mainDoorbell);
  }

  /**
   * A new generation: budget and class in place (StageInputs reads the same StageInfo), the
   * clusterers rebuilt with the new params (between two scans: this runs on this thread's event
   * loop, which a scan never yields to).
   */
  reconfigure(
    stages: readonly { index: number; budgetNs: number; classRank: number }[],
    params: Partial<LidarClustererConfig>,
  ): void {
    for (const s of stages) {
      const info = this.data.stages.find((x) => x.index === s.index);
      if (!info) continue;
      info.budgetNs = s.budgetNs;
      info.classRank = s.classRank;
    }
    if (JSON.stringify(params) !== JSON.stringify(this.data.clustererParams)) {
      this.data.clustererParams = params;
      this.clusterer = new LidarClusterer(params);
      this.coarse = new LidarClusterer(coarserParams(params));
    }
  }

  /** Fault injection (tests): the next scan throws out of the thread's loop (the thread dies). */
  injectThrow(): void {
    this.faultPending = true;
  }

  private runScan(f: ReadyFrame): void {
    if (this.faultPending) {
      this.faultPending = false;
      throw new Error(`injected fault: the lidar thread throws mid-scan (channel ${f.channel})`);
    }
    const stage = this.inputs.stageOf(f.channel);
    const info = this.inputs.info(f.channel);
    const sensor: SensorConfig = this.data.sensors[info.sensorIndex]!;
    const count = f.length / (LIDAR.stride * 4);
    const startNs = process.hrtime.bigint();
    const decision = this.data.shedding
      ? admit({
          classRank: stage.classRank,
          deadlineNs: f.deadlineNs,
          nowNs: Number(startNs),
          costNs: this.cost.expected(count),
          // Until degraded runs are seen: half the points on a coarser grid, guessed at 0.6×.
          degradedCostNs: this.degradedCost.trained
            ? this.degradedCost.expected(count / 2)
            : this.cost.trained
              ? this.cost.expected(count / 2) * 0.6
              : undefined,
          overload: this.block.overload,
          sinceFullRun: this.cost.sinceFullRun,
        })
      : 'run';
    if (decision === 'shed-deadline' || decision === 'degrade') this.cost.noteNotRun();
    if (decision === 'shed-deadline' || decision === 'shed-overload') {
      this.block.count(
        stage.index,
        decision === 'shed-deadline' ? STAGE_COUNTER.shedDeadline : STAGE_COUNTER.shedOverload,
      );
      this.inputs.finish(f.channel, f.slot);
      return;
    }
    const samples = this.block.samples[this.data.thread]!;
    samples.push(SAMPLE.sync, stage.index, Number(startNs - f.commitNs), f.channel);
    const view = this.points[f.channel]![f.slot]!;
    let n: number;
    try {
      if (decision === 'degrade') {
        const half = this.decimate(view, count);
        n = this.coarse.cluster(this.decimated, half, sensor.mount, this.boxes);
        this.degradedCost.observe(Number(process.hrtime.bigint() - startNs), half);
        this.block.count(stage.index, STAGE_COUNTER.degraded);
      } else {
        n = this.clusterer.cluster(view, count, sensor.mount, this.boxes);
        this.cost.observe(Number(process.hrtime.bigint() - startNs), count);
      }
    } catch (err) {
      // A scan the clusterer refuses must not stop the thread: count it, release it, go on.
      this.block.count(stage.index, STAGE_COUNTER.errors);
      this.inputs.finish(f.channel, f.slot);
      this.onError(err);
      return;
    }
    this.commitBoxes(f, n);
    this.inputs.finish(f.channel, f.slot);
    const doneNs = process.hrtime.bigint();
    samples.push(SAMPLE.run, stage.index, Number(doneNs - startNs), f.channel);
    const spans = this.block.spans[this.data.thread];
    if (spans) {
      spans.push(SPAN.run, stage.index, f.channel, Number(startNs), Number(doneNs), Number(f.stampNs));
    }
    samples.push(SAMPLE.latency, stage.index, Number(doneNs - f.stampNs), f.channel);
    this.block.count(stage.index, STAGE_COUNTER.frames);
    if (Number(doneNs) > f.deadlineNs) this.block.count(stage.index, STAGE_COUNTER.misses);
    this.lagChanged(stage.index, this.lag.observe(Number(doneNs)));
    this.block.addTime(this.data.thread, THREAD_TIMER.working, doneNs - startNs);
  }

  private lagChanged(stage: number, e: 'lagging' | 'recovered' | undefined): void {
    if (!e) return;
    this.block.set(stage, STAGE_COUNTER.lagging, e === 'lagging' ? 1 : 0);
    if (e === 'lagging') this.block.count(stage, STAGE_COUNTER.lagEpisodes);
    this.onLag(e, this.lag.averagePeriod / 1e6, this.lag.expectedPeriodNs / 1e6);
  }

  /** Every second point of the scan into the scratch buffer; returns the count. */
  private decimate(view: Float32Array, count: number): number {
    const out = this.decimated;
    let n = 0;
    for (let i = 0; i < count; i += 2, n++) {
      const s = i * LIDAR.stride;
      const d = n * LIDAR.stride;
      out[d] = view[s]!;
      out[d + 1] = view[s + 1]!;
      out[d + 2] = view[s + 2]!;
      out[d + 3] = view[s + 3]!;
    }
    return n;
  }

  /** Writes `n` clusters into the lidar's boxes channel, stamped with the scan's stamp, and rings the tracker. */
  private commitBoxes(f: ReadyFrame, n: number): void {
    const writer = this.writers.get(f.channel)!;
    const slot = writer.loan();
    if (slot < 0) return; // counted by the pool (droppedFull): every boxes slot is held downstream
    const bytes = n * CLUSTER.stride * 4;
    writer.slotF32(slot).set(this.boxes.subarray(0, n * CLUSTER.stride));
    const seq = this.seqOut.get(f.channel) ?? 0;
    this.seqOut.set(f.channel, seq + 1);
    writer.commit(slot, bytes, seq, f.stampNs, process.hrtime.bigint());
    this.block.ring(this.data.trackerDoorbell);
  }

  /** Releases what is still queued. */
  close(): void {
    this.closed = true;
    const f = this.frame;
    while (this.ready.pop(f)) this.inputs.finish(f.channel, f.slot);
    for (const w of this.writers.values()) w.close();
  }
}
