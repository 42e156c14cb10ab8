// Sensor load for the benches: a separate process that plays a drive's sensor messages on a
// ZeroMQ PUB socket, as the drivers of the rig would, `--load` times faster than recorded (every
// sensor's rate times the load), each header re-stamped with this host's CLOCK_MONOTONIC when it
// is sent and its seq counted on across loops of the drive. Sleeps with Atomics.wait (no spinning:
// the machine's cores belong to the service under test).
//
//   node bench/load-generator.mjs DRIVE ENDPOINT LOAD SECONDS [PIPELINE.yaml]
//
// PIPELINE names the rig whose sensors the drive holds (default: the built-in rig).
//
// Prints one JSON line at the end: messages sent per topic.
import { Publisher } from 'zeromq';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const { defaultPipelineSpec, loadPipelineSpec } = await import(
  resolve(here, '../dist/smi/spec/pipeline-spec.js')
);
const { encodeHeader } = await import(resolve(here, '../dist/wire/codec.js'));
const { readDriveFrames } = await import('./lib/drive-frames.mjs');

const [drive, endpoint, loadArg, secondsArg, pipelineFile] = process.argv.slice(2);
const load = Number(loadArg);
const seconds = Number(secondsArg);
if (!drive || !endpoint || !(load > 0) || !(seconds > 0)) {
  console.error('usage: load-generator.mjs DRIVE ENDPOINT LOAD SECONDS [PIPELINE.yaml]');
  process.exit(2);
}

// Every sensor message of the drive, in order.
const sensors = (pipelineFile ? loadPipelineSpec(pipelineFile) : defaultPipelineSpec()).sensors;
const { frames, spanNs } = await readDriveFrames(drive, sensors);
const t0Drive = frames[0].header.stampNs;

const pub = new Publisher({ linger: 0, sendHighWaterMark: 100_000, sendTimeout: 0 });
await pub.bind(endpoint);
process.stdout.write(JSON.stringify({ ready: true, frames: frames.length }) + '\n');
// Wait for the service's subscriptions (it connects after it sees `ready`): a short settle.
await new Promise((r) => setTimeout(r, 1000));

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const seq = new Map();
const sent = new Map();
const start = Number(process.hrtime.bigint());
const end = start + seconds * 1e9;
for (let loop = 0; ; loop++) {
  const loopStart = start + (loop * spanNs) / load;
  let done = false;
  for (const f of frames) {
    const at = loopStart + Number(f.header.stampNs - t0Drive) / load;
    if (at > end) {
      done = true;
      break;
    }
    const wait = at - Number(process.hrtime.bigint());
    if (wait > 50_000) Atomics.wait(sleeper, 0, 0, wait / 1e6);
    const id = f.topic.toString();
    const s = (seq.get(id) ?? -1) + 1;
    seq.set(id, s);
    const header = encodeHeader({ ...f.header, seq: s, stampNs: process.hrtime.bigint() });
    const parts = [Buffer.from(f.topic), Buffer.from(header)];
    if (f.payload) parts.push(Buffer.from(f.payload));
    await pub.send(parts);
    sent.set(id, (sent.get(id) ?? 0) + 1);
  }
  if (done) break;
}
process.stdout.write(JSON.stringify({ sent: Object.fromEntries(sent) }) + '\n');
pub.close();
