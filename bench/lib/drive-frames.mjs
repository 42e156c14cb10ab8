// Every sensor message of a drive, in order, as the benches play them: topic, decoded header and
// payload (each payload in an ArrayBuffer of its own, so that it can be posted or sent alone).
import { pino } from 'pino';
import { dist } from './dist.mjs';

const { ReplaySource } = await import(dist('sensors/replay-source.js'));
const { decodeHeader } = await import(dist('wire/codec.js'));

/** Reads `drive` (recorded with `sensors`); resolves with its frames and the span they cover, ns. */
export async function readDriveFrames(drive, sensors) {
  const frames = [];
  const source = new ReplaySource({ path: drive, speed: 'max', sensors, log: pino({ level: 'silent' }) });
  source.bind((parts) => {
    frames.push({
      topic: Buffer.from(parts[0]),
      header: decodeHeader(parts[1]),
      payload: parts[2] ? new Uint8Array(parts[2]) : undefined,
    });
    return 'committed';
  });
  await source.play();
  if (frames.length === 0) throw new Error(`${drive}: the drive has no sensor messages`);
  const spanNs = Number(frames[frames.length - 1].header.stampNs - frames[0].header.stampNs) + 10_000_000;
  return { frames, spanNs };
}
