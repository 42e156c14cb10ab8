// Live-view bench: `npm run bench:foxglove` (builds first). Runs the built-in simulated drive
// (closed loop, real time) in rounds that alternate, side by side in one run: no live view; the
// live view with a viewer that subscribes to everything and never reads; the live view with a
// viewer that reads everything. Per round: plans, e2e latency (stamp of the triggering
// measurement → plan published) p50/p99/max, plans over the e2e budget, pool drops, what the
// viewer was sent and what was dropped for it. Prints a table, writes bench/results/foxglove.json.
// Options: --seconds=N per round (default 6), --rounds=N per mode (default 2).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { spawn } from 'node:child_process';
import { pino } from 'pino';

const here = dirname(fileURLToPath(import.meta.url));
const dist = (p) => resolve(here, '../dist', p);
const { FusionService } = await import(dist('service/fusion-service.js'));
const { defaultPipelineSpec } = await import(dist('smi/spec/pipeline-spec.js'));
const { decodeHeader } = await import(dist('wire/codec.js'));

const arg = (name, dflt) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const SECONDS = arg('seconds', 6);
const ROUNDS = arg('rounds', 2);
const MODES = ['no view', 'stuck viewer', 'reading viewer'];
const log = pino({ level: 'silent' });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A viewer in its own process (so that its reading and decoding do not load the service's
 * thread): subscribes to every channel, then reads and counts (or, stuck, stops reading).
 */
const VIEWER = `
import WebSocket from 'ws';
import wsp from '@foxglove/ws-protocol';
const [url, mode] = process.argv.slice(-2);
const ws = new WebSocket(url, [wsp.FoxgloveClient.SUPPORTED_SUBPROTOCOL]);
const client = new wsp.FoxgloveClient({ ws });
let bytes = 0;
client.on('advertise', (chs) => {
  for (const c of chs) client.subscribe(c.id);
  setTimeout(() => { if (mode === 'stuck') ws._socket.pause(); process.stdout.write('subscribed\\n'); }, 200);
});
client.on('message', ({ data }) => (bytes += data.byteLength));
setInterval(() => {}, 1000); // a paused socket alone does not keep a process alive
process.on('SIGTERM', () => { process.stdout.write('bytes ' + bytes + '\\n'); process.exit(0); });
`;

function startViewer(url, mode) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', VIEWER, url, mode], {
    cwd: resolve(here, '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const subscribed = new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('viewer did not subscribe within 10 s')), 10_000);
    child.stdout.on('data', () => out.includes('subscribed') && (clearTimeout(t), resolve()));
  });
  return {
    subscribed,
    stop: () =>
      new Promise((resolve) => {
        const done = () => resolve(Number(/bytes (\d+)/.exec(out)?.[1] ?? 0));
        if (child.exitCode !== null || child.signalCode !== null) return done();
        const hard = setTimeout(() => child.kill('SIGKILL'), 2000);
        child.once('exit', () => (clearTimeout(hard), done()));
        child.kill('SIGTERM');
      }),
  };
}

async function round(mode) {
  const spec = defaultPipelineSpec();
  spec.outputs.publish = 'tcp://127.0.0.1:*';
  spec.outputs.metrics.enabled = false;
  spec.pool.implementation = 'js';
  if (mode !== 'no view')
    spec.outputs.foxglove = { host: '127.0.0.1', port: 0, sendBufferBytes: 16 * 2 ** 20 };
  const e2e = [];
  const service = await FusionService.start(spec, {
    log,
    outputTap: (parts) => {
      if (parts[0].toString() !== 'out/plan') return;
      const h = decodeHeader(parts[1]);
      e2e.push(Number(h.publishedNs - h.stampNs) / 1e6);
    },
  });
  let viewer;
  if (mode !== 'no view') {
    viewer = startViewer(service.foxglove.server.url, mode === 'stuck viewer' ? 'stuck' : 'read');
    await viewer.subscribed;
  }
  await sleep(500); // warm-up, not counted
  e2e.length = 0;
  await sleep(SECONDS * 1000);
  const stats = service.foxglove?.server.viewers()[0];
  const counts = service.foxglove ? { ...service.foxglove.server.counts } : undefined;
  const viewerBytes = (await viewer?.stop()) ?? 0;
  const dropped = service.ingest.droppedCount;
  await service.stop();
  const sorted = [...e2e].sort((a, b) => a - b);
  const q = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN);
  return {
    mode,
    plans: e2e.length,
    p50: q(0.5),
    p99: q(0.99),
    max: sorted.at(-1) ?? NaN,
    overBudget: e2e.filter((ms) => ms > spec.budget.e2eMs).length,
    poolDropped: dropped,
    viewerSent: stats?.sent ?? 0,
    viewerDropped: stats?.dropped ?? 0,
    viewerMaxQueueMB: stats ? stats.maxBufferedBytes / 1e6 : 0,
    viewerReadMB: viewerBytes / 1e6,
    pointCloudsEncoded: counts?.pointCloudsEncoded ?? 0,
  };
}

const results = [];
for (let r = 0; r < ROUNDS; r++) for (const mode of MODES) results.push(await round(mode));

const f = (v, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '-');
const rows = results.map(
  (x) =>
    `| ${x.mode.padEnd(14)} | ${String(x.plans).padStart(5)} | ${f(x.p50).padStart(7)} | ${f(x.p99).padStart(7)} | ${f(x.max).padStart(7)} | ${String(x.overBudget).padStart(4)} | ${String(x.poolDropped).padStart(5)} | ${String(x.viewerSent).padStart(6)} | ${String(x.viewerDropped).padStart(6)} | ${f(x.viewerMaxQueueMB, 1).padStart(5)} |`,
);
const med = (mode, key) => {
  const v = results
    .filter((x) => x.mode === mode)
    .map((x) => x[key])
    .sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)];
};
console.log(`live view bench: ${SECONDS} s per round, ${ROUNDS} rounds per mode, ${os.cpus().length} CPUs`);
console.log(
  '| mode           | plans | e2e p50 | e2e p99 | e2e max | >budget | drops | sent | dropped | queue MB |',
);
console.log(
  '| -------------- | ----: | ------: | ------: | ------: | ---: | ----: | -----: | -----: | ----: |',
);
for (const row of rows) console.log(row);
const ratio = (key) => med('stuck viewer', key) / med('no view', key);
console.log(
  `stuck viewer / no view, medians of rounds: e2e p50 x${f(ratio('p50'))}, p99 x${f(ratio('p99'))}`,
);
mkdirSync(resolve(here, 'results'), { recursive: true });
writeFileSync(
  resolve(here, 'results/foxglove.json'),
  JSON.stringify({ seconds: SECONDS, rounds: ROUNDS, node: process.version, results }, null, 2),
);
process.exit(0);
