// `--trace FILE`: a per-frame trace of the first service case in the Chrome trace-event format
// (JSON; opens in ui.perfetto.dev and chrome://tracing). One track per thread (main: ingest;
// lidar: ingest of scans, extraction; tracker: fusion, planning, publishing); each frame's
// slices (ingest, handoff, stage run, publish) are joined by flow arrows, so one radar scan or
// lidar scan can be followed from its arrival to the plan it went into.
// Spans come from the stage threads' span rings (workers/span-ring.ts), main-thread ingest from
// the bench's ingest listener.
import { dist } from './dist.mjs';

const { SPAN } = await import(dist('workers/span-ring.js'));

const PID = 1;
/** Spans kept: the first WINDOW_S seconds measured, at most MAX_SPANS (a file Perfetto opens quickly). */
const WINDOW_S = 5;
const MAX_SPANS = 150_000;

export class TraceRecorder {
  constructor({ windowS = WINDOW_S, maxSpans = MAX_SPANS } = {}) {
    this.windowNs = windowS * 1e9;
    this.maxSpans = maxSpans;
    // columns: kind, thread, stage, channel, startNs, endNs, stampNs
    this.spans = [];
    this.t0 = -1;
    this.service = undefined;
  }

  /** The service whose spans follow (names of its threads, stages and channels). */
  begin(service) {
    this.service = service;
    const graph = service.graph;
    this.stageNames = graph.stages.map((s) => s.name);
    this.channelNames = graph.channels.map((c) => c.name);
    // a boxes channel belongs to the frame of the scan it was extracted from
    this.rootOf = graph.channels.map((c) => {
      const derived = service.spec.derivedChannels.find((d) => d.name === c.name);
      return derived ? graph.channels.findIndex((x) => x.name === derived.source) : c.index;
    });
    this.threadNames = service.scheduler.telemetry.status().threads.map((t) => t.name);
    this.mainThread = graph.threads.main;
  }

  get full() {
    return this.spans.length >= this.maxSpans;
  }

  add(kind, thread, stage, channel, startNs, endNs, stampNs) {
    if (this.full) return;
    if (this.t0 < 0) this.t0 = startNs;
    if (startNs - this.t0 > this.windowNs) return;
    this.spans.push([kind, thread, stage, channel, startNs, endNs, stampNs]);
  }

  /** A span from a stage thread (SchedulerTelemetry.onSpan). */
  onSpan(s) {
    this.add(s.kind, s.thread, s.stage, s.channel, s.startNs, s.endNs, s.stampNs);
  }

  /** A message ingested on the main thread: sensor (= channel) index, received → committed. */
  onIngest(sensor, startNs, endNs) {
    this.add(SPAN.ingest, this.mainThread, -1, sensor, startNs, endNs, 0);
  }

  done() {
    this.service = undefined;
  }

  get eventCount() {
    return this.events?.length ?? 0;
  }

  /** The trace: { traceEvents, displayTimeUnit, otherData }. */
  toJSON() {
    const us = (ns) => (ns - this.t0) / 1e3;
    const ev = [];
    ev.push({ ph: 'M', pid: PID, name: 'process_name', args: { name: 'smi-fusion (bench)' } });
    (this.threadNames ?? []).forEach((name, t) =>
      ev.push({
        ph: 'M',
        pid: PID,
        tid: t + 1,
        name: 'thread_name',
        args: { name: name === 'main' ? 'main (ingest)' : name },
      }),
    );
    const ch = (c) => this.channelNames?.[c] ?? `channel ${c}`;
    const stage = (s) => this.stageNames?.[s] ?? 'ingest';
    /** Slices of each frame (key: root channel and stamp), in time order, for the flows. */
    const frames = new Map();
    const ingestsOf = new Map(); // channel -> [slice] (main and lidar ingest carry no stamp)
    const publishes = []; // [startNs, slice]
    const outputs = [];
    for (const [kind, thread, st, c, startNs, endNs, stampNs] of this.spans) {
      if (kind === SPAN.output) {
        outputs.push([c, stampNs, startNs]);
        continue;
      }
      const name =
        kind === SPAN.ingest
          ? `ingest ${ch(c)}`
          : kind === SPAN.handoff
            ? `handoff ${ch(c)}`
            : kind === SPAN.run
              ? `${stage(st)} ${ch(c)}`
              : 'publish tracks + plan';
      const cat = ['handoff', 'run', 'publish', 'output', 'ingest'][kind];
      const slice = {
        ph: 'X',
        pid: PID,
        tid: thread + 1,
        name,
        cat,
        ts: us(startNs),
        dur: Math.max((endNs - startNs) / 1e3, 0.001),
        args: {
          channel: ch(c),
          stage: kind === SPAN.ingest ? 'ingest' : stage(st),
          stampNs: String(stampNs),
        },
      };
      ev.push(slice);
      if (kind === SPAN.ingest) {
        if (!ingestsOf.has(c)) ingestsOf.set(c, []);
        ingestsOf.get(c).push(slice);
      } else if (kind === SPAN.publish) {
        publishes.push([startNs, slice]);
      } else {
        const key = `${this.rootOf?.[c] ?? c}:${stampNs}`;
        if (!frames.has(key)) frames.set(key, { channel: c, slices: [] });
        frames.get(key).slices.push(slice);
      }
    }
    const publishAt = new Map(publishes.map(([s, slice]) => [s, slice]));
    for (const [c, stampNs, startNs] of outputs) {
      const f = frames.get(`${this.rootOf?.[c] ?? c}:${stampNs}`);
      const p = publishAt.get(startNs);
      if (f && p) f.slices.push(p);
    }
    let id = 0;
    const flow = (a, b) => {
      id++;
      ev.push({ ph: 's', pid: PID, tid: a.tid, id, name: 'frame', cat: 'frame', ts: a.ts + a.dur / 2 });
      ev.push({
        ph: 'f',
        bp: 'e',
        pid: PID,
        tid: b.tid,
        id,
        name: 'frame',
        cat: 'frame',
        ts: b.ts + b.dur / 2,
      });
    };
    for (const f of frames.values()) {
      const s = f.slices.sort((a, b) => a.ts - b.ts);
      // The ingest that committed this frame: the one of its channel that ended nearest its
      // handoff's start (the commit; ingest's end is read just after it, so within a few µs).
      const first = s[0];
      const list = ingestsOf.get(f.channel);
      if (first?.cat === 'handoff' && list) {
        let best;
        let gap = 200; // µs
        for (const g of list) {
          const d = Math.abs(g.ts + g.dur - first.ts);
          if (d < gap) [best, gap] = [g, d];
        }
        if (best) s.unshift(best);
      }
      for (let i = 1; i < s.length; i++) flow(s[i - 1], s[i]);
    }
    this.events = ev;
    return {
      traceEvents: ev,
      displayTimeUnit: 'ms',
      otherData: { spans: this.spans.length, windowS: this.windowNs / 1e9, truncated: this.full },
    };
  }
}
