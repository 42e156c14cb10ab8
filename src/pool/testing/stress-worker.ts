/**
 * Worker for the pool stress test (src/pool/stress.test.ts): one producer or one reader per
 * thread over a pool posted in `workerData`. Payloads are derived from their seq so that every
 * reader can check every byte it reads; results go back in one message at the end.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { emptyDescriptor, SlotPool, type PoolImplementation } from '../slot-pool.js';

export interface StressJob {
  sab: SharedArrayBuffer;
  implementation: PoolImplementation;
  role: 'producer' | 'sequential' | 'latest' | 'slow-sequential';
  channel: number;
  /** Messages the channel's producer publishes. */
  count: number;
  /** control[channel] = 1 once that channel's producer is done. */
  control: Int32Array;
  /** Producer: loan without waiting and count every failure (a drop-oldest channel never fails). */
  neverWait?: boolean;
}

export interface StressResult {
  role: StressJob['role'];
  channel: number;
  received: number;
  /** Payloads whose bytes did not match their seq (torn or corrupted): must stay 0. */
  bad: number;
  /** Sequential: seq not the expected next one; latest: seq not increasing. Must stay 0. */
  orderErrors: number;
  skipped: number;
  tornRetries: number;
  loanFailures: number;
  checksum: number;
}

/** Words of payload for `seq`: 8..127 (32..508 bytes), so lengths vary. */
export const wordsFor = (seq: number): number => 8 + ((seq * 7) % 120);
/** Word `i` of the payload of `seq`. */
export const wordAt = (seq: number, i: number): number =>
  i === 0 ? seq : (Math.imul(seq, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0;

function produce(job: StressJob, pool: SlotPool, r: StressResult): void {
  const w = pool.writer(job.channel, job.channel);
  const u32 = new Uint32Array(pool.sab);
  const latest = job.neverWait || pool.channels[job.channel]!.readerCount === 0;
  for (let seq = 1; seq <= job.count; seq++) {
    // A latest or drop-oldest channel's writer never waits; a sequential one waits for releases.
    let slot = latest ? w.loan() : w.loanWait(10_000);
    if (slot < 0) {
      r.loanFailures++;
      slot = w.loanWait(10_000);
      if (slot < 0) throw new Error(`producer ${job.channel}: no slot for seq ${seq}`);
    }
    const base = pool.slotOffset(job.channel, slot) >> 2;
    const n = wordsFor(seq);
    for (let i = 0; i < n; i++) u32[base + i] = wordAt(seq, i);
    w.commit(slot, n * 4, seq, 0n, 0n);
    r.checksum = (r.checksum + seq) % 0x7fff_ffff;
  }
  Atomics.store(job.control, job.channel, 1);
  Atomics.notify(job.control, job.channel);
}

function check(u32: Uint32Array, base: number, seq: number, length: number): boolean {
  const n = wordsFor(seq);
  if (length !== n * 4) return false;
  for (let i = 0; i < n; i++) if (u32[base + i] !== wordAt(seq, i)) return false;
  return true;
}

function read(job: StressJob, pool: SlotPool, r: StressResult): void {
  const reader = pool.reader(job.channel, job.role === 'latest' ? 'latest' : 'sequential');
  const sequential = job.role === 'sequential';
  const slow = job.role === 'slow-sequential';
  const u32 = new Uint32Array(pool.sab);
  const d = emptyDescriptor();
  let last = 0;
  for (;;) {
    const got = job.role === 'latest' ? reader.latest(d) : reader.next(d);
    if (!got) {
      if (sequential && r.received === job.count) break;
      if (Atomics.load(job.control, job.channel) === 1 && reader.backlog() === 0) break;
      reader.wait(50);
      continue;
    }
    const base = pool.slotOffset(job.channel, d.slot) >> 2;
    if (!check(u32, base, d.seq, d.length)) r.bad++;
    if (sequential ? d.seq !== last + 1 : d.seq <= last) r.orderErrors++;
    // A slow reader holds each slot a little, so that the writer laps it and drops the oldest.
    if (slow && d.seq % 3 === 0) for (let spin = 0; spin < 2000; spin++) r.checksum ^= spin & 1;
    // Still intact after we looked: nobody may rewrite a slot we hold.
    if (!check(u32, base, d.seq, d.length)) r.bad++;
    last = d.seq;
    r.received++;
    r.checksum = (r.checksum + d.seq) % 0x7fff_ffff;
    reader.release(d.slot);
  }
  r.skipped = reader.skipped;
  r.tornRetries = reader.tornRetries;
  reader.close();
}

if (parentPort) {
  const job = workerData as StressJob;
  const pool = SlotPool.attach(job.sab, { implementation: job.implementation });
  const r: StressResult = {
    role: job.role,
    channel: job.channel,
    received: 0,
    bad: 0,
    orderErrors: 0,
    skipped: 0,
    tornRetries: 0,
    loanFailures: 0,
    checksum: 0,
  };
  if (job.role === 'producer') produce(job, pool, r);
  else read(job, pool, r);
  parentPort.postMessage(r);
}
