// Tracker-thread failover bench: `npm run bench:failover`. The onboard service (built-in rig) is
// fed the highway-following fixture drive at 1x by the load generator (its own process, over
// ZeroMQ ipc://), and its tracker thread is killed again and again, alternately by an exception
// mid-frame and by `terminate`: first with the hot standby (the default), then without (a cold
// start per death), side by side in one run. Per death it measures, from the moment of the fault:
//   gap            the replacement running (the supervisor's figure)
//   first output   its first published message (the supervisor's figure)
//   recovered      the first plan, received by a subscriber, for a critical measurement stamped
//                  after the fault, whose end-to-end latency (capture stamp → received) is within
//                  the planner's budget: what "critical latency recovers" means here
// and compares `recovered` with the critical sensors' periods. Also: frames lost per death, track
// ids before and after (a reset or a burst of new ids would show), critical e2e before and after.
// Wall-clock figures on a shared machine: the load average is printed with them.
// Options: --deaths N (per series, default 8), --quick (4).
import os from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { pino } from 'pino';
import { Subscriber } from 'zeromq';
import { BENCH_DIR, dist } from './lib/dist.mjs';
import { benchSpec, MODES } from './lib/service-case.mjs';

const { FusionService } = await import(dist('service/fusion-service.js'));
const { decodeHeader } = await import(dist('wire/codec.js'));
const { TRACK } = await import(dist('wire/layouts.js'));

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const deaths = process.argv.includes('--quick') ? 4 : Number(arg('deaths', '8'));
const drive = join(BENCH_DIR, '../fixtures/drives/highway-following.mcap');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const nowNs = () => process.hrtime.bigint();
const quantile = (xs, q) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const fmt = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');

async function series(label, standby) {
  const endpoint = `ipc://${join(tmpdir(), `smi-failover-${process.pid}-${standby ? 1 : 0}.sock`)}`;
  const spec = benchSpec(undefined, MODES.sched, endpoint);
  spec.scheduler.recovery = { ...spec.scheduler.recovery, standby, maxRestarts: deaths + 1, windowS: 3600 };
  const seconds = deaths * 3.5 + 14;
  const gen = spawn(
    process.execPath,
    [join(BENCH_DIR, 'load-generator.mjs'), drive, endpoint, '1', String(seconds)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise((resolve, reject) => {
    let out = '';
    gen.stdout.on('data', (b) => {
      out += b.toString();
      if (out.includes('"ready"')) resolve();
    });
    gen.once('exit', (code) => reject(new Error(`load generator exited ${code} before it was ready`)));
  });
  // Capture stamps of the critical measurements as they arrive: a plan triggered by one of them
  // answers a critical measurement.
  const criticalStamps = new Set();
  const service = await FusionService.start(spec, {
    log: pino({ level: 'error' }),
    faultInjection: true,
    receiveTap: (parts) => {
      const h = decodeHeader(parts[1]);
      if (h.kind === 'ego' || h.kind === 'radar') criticalStamps.add(h.stampNs);
    },
  });
  const budgetMs = service.graph.stages.find((s) => s.type === 'planner').budgetMs;
  const critical = spec.sensors.filter((s) => s.kind === 'ego' || s.kind === 'radar');
  // The subscriber: every plan (its trigger stamp, received time) and every track list's ids.
  const plans = [];
  const trackIds = [];
  const sub = new Subscriber({ linger: 0 });
  sub.connect(service.publishEndpoint);
  sub.subscribe('out/');
  const loop = (async () => {
    for await (const [topic, header, payload] of sub) {
      const at = nowNs();
      const h = decodeHeader(header);
      if (topic.toString() === 'out/plan') plans.push({ at, stampNs: h.stampNs });
      else {
        const f = new Float32Array(new Uint8Array(payload).buffer);
        const ids = [];
        for (let i = 0; i < h.count; i++) ids.push(f[i * TRACK.stride + TRACK.id]);
        trackIds.push({ at, ids });
      }
    }
  })();
  // The first standby loads 5 s after start (tracker-supervisor.ts STANDBY_DELAY_MS).
  await sleep(standby ? 7000 : 4000);
  const rows = [];
  // Control windows first (no fault): what new ids and e2e look like in this drive anyway.
  const faults = [
    ...(standby ? ['none', 'none', 'none'] : []),
    ...Array.from({ length: deaths }, (_, d) => (d % 2 === 0 ? 'throw' : 'terminate')),
  ];
  let d = 0;
  for (const fault of faults) {
    if (standby) {
      const t = Date.now();
      while (!service.scheduler.recoveryStatus().standbyReady && Date.now() - t < 5000) await sleep(20);
    }
    const idsBefore = new Set(trackIds.at(-1)?.ids ?? []);
    const maxIdBefore = Math.max(0, ...trackIds.flatMap((t) => t.ids));
    const e2eBefore = plans
      .filter((p) => p.at > nowNs() - 2_000_000_000n && criticalStamps.has(p.stampNs))
      .map((p) => Number(p.at - p.stampNs) / 1e6);
    const tFault = nowNs();
    let ev;
    if (fault !== 'none') {
      await service.scheduler.injectFault(fault);
      const t = Date.now();
      while (Date.now() - t < 5000) {
        ev = service.scheduler.recoveryStatus().events[d];
        if (ev && ev.firstOutputMs !== undefined) break;
        await sleep(5);
      }
      d++;
    }
    await sleep(1500);
    const after = plans.filter((p) => p.stampNs > tFault && criticalStamps.has(p.stampNs));
    const rec = after.find((p) => Number(p.at - p.stampNs) / 1e6 <= budgetMs);
    const tracksAfter = trackIds.filter((x) => x.at > tFault);
    const firstAfter = new Set(tracksAfter[0]?.ids ?? []);
    const kept = [...idsBefore].filter((id) => firstAfter.has(id)).length;
    const newIds = new Set(tracksAfter.flatMap((x) => x.ids).filter((id) => id > maxIdBefore)).size;
    const e2eAfter = after
      .filter((p) => p.at > tFault + 500_000_000n)
      .map((p) => Number(p.at - p.stampNs) / 1e6);
    rows.push({
      fault,
      standby: ev?.standby,
      gapMs: ev?.gapMs,
      firstOutputMs: ev?.firstOutputMs,
      recoveredMs: rec ? Number(rec.at - tFault) / 1e6 : NaN,
      lostFrames: ev?.lostFrames,
      idsBefore: idsBefore.size,
      idsKept: kept,
      newIdsIn1_5s: newIds,
      e2eBeforeP50Ms: quantile(e2eBefore, 0.5),
      e2eAfterP50Ms: quantile(e2eAfter, 0.5),
      e2eAfterP99Ms: quantile(e2eAfter, 0.99),
    });
    await sleep(1000);
  }
  sub.close();
  await loop;
  await service.stop();
  gen.kill('SIGKILL');
  return {
    label,
    budgetMs,
    periodsMs: Object.fromEntries(critical.map((s) => [s.id, 1000 / s.rateHz])),
    rows,
  };
}

const load = os.loadavg();
const results = [await series('hot standby', true), await series('cold start (no standby)', false)];
console.log(
  `\nTracker failover, highway-following at 1x, load average ${load.map((l) => l.toFixed(2)).join(' ')}`,
);
for (const r of results) {
  console.log(
    `\n${r.label}: planner budget ${r.budgetMs} ms; critical periods ${Object.entries(r.periodsMs)
      .map(([id, ms]) => `${id} ${ms} ms`)
      .join(', ')}`,
  );
  console.log(
    'fault      gap ms  1st out ms  recovered ms  lost  ids kept  new ids  e2e p50 before/after  p99 after',
  );
  for (const x of r.rows) {
    console.log(
      `${x.fault.padEnd(10)} ${fmt(x.gapMs).padStart(6)}  ${fmt(x.firstOutputMs).padStart(10)}  ${fmt(x.recoveredMs).padStart(12)}  ${String(x.lostFrames ?? '-').padStart(4)}  ${`${x.idsKept}/${x.idsBefore}`.padStart(8)}  ${String(x.newIdsIn1_5s).padStart(7)}  ${fmt(x.e2eBeforeP50Ms).padStart(10)} / ${fmt(x.e2eAfterP50Ms).padEnd(8)}  ${fmt(x.e2eAfterP99Ms).padStart(8)}`,
    );
  }
  const faulted = r.rows.filter((x) => x.fault !== 'none');
  const rec = faulted.map((x) => x.recoveredMs);
  console.log(
    `recovered: p50 ${fmt(quantile(rec, 0.5))} ms, max ${fmt(Math.max(...rec))} ms; gap p50 ${fmt(
      quantile(
        faulted.map((x) => x.gapMs),
        0.5,
      ),
    )} ms`,
  );
}
mkdirSync(join(BENCH_DIR, 'results'), { recursive: true });
writeFileSync(join(BENCH_DIR, 'results/failover.json'), JSON.stringify({ load, results }, null, 2));
