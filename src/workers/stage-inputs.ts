/**
 * A stage thread's input channels: one pool reader each, drained into the thread's ready queue
 * with each frame's stage, class and deadline; the channel's period learned for prefetch; what is
 * finished reported as consumed (for idle detection); messages an external producer wrote admitted
 * with ingest's checks first.
 */
import { emptyDescriptor, type ChannelReader, type Descriptor, type SlotPool } from '../pool/slot-pool.js';
import { PeriodEstimator } from '../smi/policy/period-estimator.js';
import type { ReadyFrame, ReadyQueue } from '../smi/policy/ready-queue.js';
import { SAMPLE, STAGE_COUNTER, type SchedulerBlock } from './scheduler-block.js';
import type { InputChannelInfo, StageInfo } from './stage-thread-protocol.js';
import { SPAN } from './span-ring.js';

/** Admits a message an external producer committed (ingest's checks); false = refused, counted. */
export type ExternalAdmission = (sensorIndex: number, d: Descriptor, nowNs: bigint) => boolean;

export class StageInputs {
  readonly readers: ChannelReader[] = [];
  readonly periods: PeriodEstimator[];
  /** Input index by pool channel (-1: not an input of this thread). */
  private readonly byChannel: Int32Array;
  private readonly skippedSeen: Float64Array;
  /** The stage of each input, resolved once. */
  private readonly inputStage: StageInfo[];
  /** Slots this thread holds per input (queued, running, or kept in a reorder window). */
  private readonly held: Int32Array;
  /**
   * The most a thread takes of a channel: two slots stay with the writer (one loaned ahead, one
   * unread), so that a full drop-oldest channel can always drop its oldest unread message instead
   * of refusing the newest while this thread is busy.
   */
  private readonly maxHeld: Int32Array;
  private readonly d: Descriptor = emptyDescriptor();

  constructor(
    private readonly pool: SlotPool,
    private readonly block: SchedulerBlock,
    private readonly thread: number,
    readonly infos: readonly InputChannelInfo[],
    stages: readonly StageInfo[],
    private readonly admitExternal: ExternalAdmission | undefined,
    /**
     * Called when a channel has commits waiting but this thread holds as many of its slots as it
     * may (e.g. a reorder window full of them): give some back, then the drain goes on.
     */
    private readonly onHeldLimit: ((channel: number) => void) | undefined = undefined,
    /** Open the readers now (else `open` does: a standby binds them when it takes over). */
    openNow = true,
  ) {
    if (openNow) this.open();
    this.periods = infos.map((i) => new PeriodEstimator(1e9 / i.rateHz));
    this.byChannel = new Int32Array(pool.channels.length).fill(-1);
    infos.forEach((info, k) => (this.byChannel[info.channel] = k));
    this.skippedSeen = new Float64Array(infos.length);
    this.held = new Int32Array(infos.length);
    this.maxHeld = Int32Array.from(infos, (i) => Math.max(1, pool.channels[i.channel]!.slotCount - 2));
    this.inputStage = infos.map((info) => {
      const stage = stages.find((s) => s.index === info.stage);
      if (!stage) throw new Error(`input '${info.name}': no stage ${info.stage} on this thread`);
      return stage;
    });
  }

  /** The stage that consumes `channel`. */
  stageOf(channel: number): StageInfo {
    return this.inputStage[this.byChannel[channel]!]!;
  }

  info(channel: number): InputChannelInfo {
    return this.infos[this.byChannel[channel]!]!;
  }

  /** Slots of `channel` this thread holds, and the most it may. */
  heldOf(channel: number): { held: number; max: number } {
    const k = this.byChannel[channel]!;
    return { held: this.held[k]!, max: this.maxHeld[k]! };
  }

  /** Commits waiting on any input (not yet taken). */
  backlog(): number {
    let n = 0;
    for (const r of this.readers) n += r.backlog();
    return n;
  }

  /**
   * Takes every committed message into `ready` (`latest` inputs: only the newest; the rest are
   * counted superseded). Each frame's deadline is its stamp plus its stage's budget. Returns the
   * number of frames added.
   */
  drain(ready: ReadyQueue, frame: ReadyFrame): number {
    let added = 0;
    const d = this.d;
    for (let k = 0; k < this.readers.length; k++) {
      const reader = this.readers[k]!;
      if (reader.backlog() === 0) continue;
      const info = this.infos[k]!;
      const stage = this.inputStage[k]!;
      for (;;) {
        if (this.held[k]! >= this.maxHeld[k]!) {
          this.onHeldLimit?.(info.channel);
          // The rest waits in the pool, where a full drop-oldest channel can still drop it.
          if (this.held[k]! >= this.maxHeld[k]!) break;
        }
        const got = info.access === 'latest' ? reader.latest(d) : reader.next(d);
        if (info.access === 'latest') this.countSuperseded(k, stage);
        if (!got) break;
        const nowNs = process.hrtime.bigint();
        this.held[k]!++;
        this.block.take(d.channel);
        this.block.samples[this.thread]!.push(
          SAMPLE.handoff,
          stage.index,
          Number(nowNs - d.commitNs),
          d.channel,
        );
        const spans = this.block.spans[this.thread];
        if (spans) {
          spans.push(
            SPAN.handoff,
            stage.index,
            d.channel,
            Number(d.commitNs),
            Number(nowNs),
            Number(d.stampNs),
          );
        }
        this.periods[k]!.observe(Number(d.commitNs));
        if (info.external && this.admitExternal && !this.admitExternal(info.sensorIndex, d, nowNs)) {
          this.finish(d.channel, d.slot);
          continue;
        }
        frame.channel = d.channel;
        frame.slot = d.slot;
        frame.length = d.length;
        frame.stampNs = d.stampNs;
        frame.commitNs = d.commitNs;
        frame.stage = stage.index;
        frame.classRank = stage.classRank;
        // A stage's budget counts from its input's capture stamp; for what another stage wrote
        // (lidar boxes) from that commit: the writer's own budget covered the time before.
        frame.deadlineNs = Number(info.kind === 'boxes' ? d.commitNs : d.stampNs) + stage.budgetNs;
        if (!ready.push(frame)) {
          this.block.count(stage.index, STAGE_COUNTER.queueFull);
          this.finish(d.channel, d.slot);
          continue;
        }
        added++;
        if (info.access === 'latest') break;
      }
    }
    return added;
  }

  /** Releases a frame's slot and reports it consumed. */
  finish(channel: number, slot: number): void {
    const k = this.byChannel[channel]!;
    this.readers[k]!.release(slot);
    this.held[k]!--;
    this.block.consumeTaken(channel);
  }

  /** Reports a frame consumed whose slot stays held (kept for the reorder window). */
  consumedOnly(channel: number): void {
    this.block.consumeTaken(channel);
  }

  /** Releases a slot whose frame was already reported consumed. */
  releaseOnly(channel: number, slot: number): void {
    const k = this.byChannel[channel]!;
    this.readers[k]!.release(slot);
    this.held[k]!--;
  }

  private countSuperseded(k: number, stage: StageInfo): void {
    const skipped = this.readers[k]!.skipped;
    const fresh = skipped - this.skippedSeen[k]!;
    if (fresh <= 0) return;
    this.skippedSeen[k] = skipped;
    this.block.count(stage.index, STAGE_COUNTER.shedSuperseded, fresh);
    this.block.consume(this.infos[k]!.channel, fresh);
  }

  /**
   * The earliest expected next commit over the inputs whose stage class rank is at most
   * `maxRank` and whose period is learned: {atNs, input} or undefined.
   */
  nextExpected(
    nowNs: number,
    maxRank: number,
  ): { atNs: number; jitterNs: number; input: number } | undefined {
    let best: { atNs: number; jitterNs: number; input: number } | undefined;
    for (let k = 0; k < this.infos.length; k++) {
      if (this.inputStage[k]!.classRank > maxRank) continue;
      const at = this.periods[k]!.nextAfter(nowNs);
      if (at === Infinity) continue;
      if (!best || at < best.atNs) best = { atNs: at, jitterNs: this.periods[k]!.jitter, input: k };
    }
    return best;
  }

  /**
   * Opens one reader per input; `entries` (per input) binds reader entries handed over from a
   * thread that died (SlotPool.handOverReader) at their cursors.
   */
  open(entries?: readonly number[]): void {
    if (this.readers.length > 0) throw new Error('stage inputs: readers already open');
    this.infos.forEach((i, k) => this.readers.push(this.pool.reader(i.channel, i.access, entries?.[k])));
  }

  /** The reader entry bound per input (what a supervisor hands over if this thread dies). */
  entries(): { channel: number; entry: number }[] {
    return this.readers.map((r, k) => ({ channel: this.infos[k]!.channel, entry: r.entry }));
  }

  close(): void {
    for (const r of this.readers) r.close();
  }
}
