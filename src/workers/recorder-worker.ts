/**
 * The recorder's worker thread: takes records from the RecordRing and writes them to the drive
 * (MCAP, compressed chunks), so that encoding, compression and disk writes never run on the
 * service's thread. Every writer call is awaited before the next.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { DriveWriter } from '../io/mcap-drive-writer.js';
import { RecordRing } from '../io/record-ring.js';
import { setThreadClass } from './thread-priority.js';
import {
  emptyRecorderStats,
  type RecorderControl,
  type RecorderEvent,
  type RecorderWorkerData,
  type RecorderWorkerStats,
} from '../io/recorder-protocol.js';

// Recording is best-effort work (DESIGN: priorities): compression never competes with ingest
// and fusion for a core (nor inherits a critical thread's real-time policy).
setThreadClass(3);

const port = parentPort!;
const data = workerData as RecorderWorkerData;
const ring = RecordRing.attach(data.sab);
const stats: RecorderWorkerStats = emptyRecorderStats();
let stop: RecorderControl | undefined;
let stopAt = 0;

port.on('message', (m: RecorderControl) => {
  if (m.type === 'stop' && !stop) {
    stop = m;
    stopAt = performance.now() + m.drainMs;
    // Stopping: the pipeline is done, and the file must be finished within the stop deadline
    // even on a loaded machine (at best-effort priority a CPU hog starves it): the high class (nice 0).
    setThreadClass(1);
  }
});

const post = (e: RecorderEvent): void => port.postMessage(e);

function syncStats(writer: DriveWriter): void {
  stats.messages = writer.stats.messages;
  stats.channels = writer.stats.channels;
  stats.rawChannels = writer.stats.rawChannels;
  stats.bytes = writer.stats.bytes;
  stats.chunks = writer.stats.chunks;
  stats.maxChunkBytes = writer.stats.maxChunkBytes;
}

async function record(): Promise<void> {
  const writer = await DriveWriter.create(
    data.path,
    {
      sensors: data.sensors,
      compression: data.compression,
      chunkBytes: data.chunkBytes,
      maxBytes: data.maxBytes,
      foxglove: data.foxglove,
    },
    data.metadata,
  );
  post({ type: 'ready' });
  const started = performance.now();
  let recordBytes = 0;
  let yieldedAt = started;
  try {
    for (;;) {
      // A backlog keeps this loop busy without a real wait (writing resolves at once): let the
      // port deliver a stop now and then, or it would be seen only once the queue ran dry.
      if (performance.now() - yieldedAt > 20) {
        await new Promise((r) => setImmediate(r));
        yieldedAt = performance.now();
      }
      const seen = ring.signal;
      const rec = ring.next();
      if (!rec) {
        if (stop) break;
        await ring.waitForData(seen, 50);
        continue;
      }
      if (stop && performance.now() > stopAt) {
        // Out of time: count what is left, leave it unwritten, and close the file properly.
        do {
          stats.unwritten++;
          ring.release();
        } while (ring.next());
        break;
      }
      await writer.addWire(rec.topic, rec.data, rec.logTimeNs);
      recordBytes += rec.data.byteLength;
      ring.release();
      stats.written++;
      if (data.throttleBytesPerSec) {
        const aheadMs = (recordBytes / data.throttleBytesPerSec) * 1000 - (performance.now() - started);
        if (aheadMs > 1) await sleep(aheadMs);
      }
    }
    await writer.end({
      ...stop?.summary,
      written: String(stats.written),
      unwrittenAtStop: String(stats.unwritten),
    });
    syncStats(writer);
    post({ type: 'done', stats });
  } catch (err) {
    writer.abandon();
    syncStats(writer);
    post({ type: 'error', message: (err as Error).message, stats });
  }
}

record().catch((err: unknown) =>
  post({ type: 'error', message: (err as Error)?.message ?? String(err), stats }),
);
