/**
 * Entry point of the tracker's thread (see TrackerThread): attaches the pool and the scheduler
 * block, binds the output PUB socket, runs until the main thread asks it to stop, and releases
 * everything it holds on the way out.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { OutputPublisher } from '../io/output-publisher.js';
import { IngestCounterBlock } from '../sensors/ingest-counters.js';
import { IngestStage } from '../sensors/ingest-stage.js';
import { StageInputs } from './stage-inputs.js';
import { attachStageThread } from './stage-thread-attach.js';
import { TrackerThread } from './tracker-thread.js';
import type { FromStageThread, ToStageThread, TrackerThreadData } from './stage-thread-protocol.js';

const port = parentPort!;
const data = workerData as TrackerThreadData;
const post = (m: FromStageThread, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

async function main(): Promise<void> {
  const { priority, log, limited, pool, block } = attachStageThread(data, 'tracker');
  const external = new Set(data.inputs.filter((i) => i.external).map((i) => i.sensorIndex));
  // Messages a C driver committed straight into the pool get ingest's checks here, where they are read.
  const admission =
    external.size > 0
      ? new IngestStage(
          data.sensors,
          pool,
          {
            counters: IngestCounterBlock.attach(data.ingestCountersSab, data.sensors.length),
            latency: () => {},
          },
          limited,
          data.ingestLimits,
          {
            producers: data.sensors.map((_, i) => (external.has(i) ? 'external' : 'ingest')),
            ingests: () => false,
          },
        )
      : undefined;
  // The reorder window gives slots back early when a channel runs short (see TrackerThread).
  let onHeldLimit: (channel: number) => void = () => {};
  const inputs = new StageInputs(
    pool,
    block,
    data.thread,
    data.inputs,
    data.stages,
    admission && ((i, d, now) => admission.admitExternal(i, d, now)),
    (channel) => onHeldLimit(channel),
  );
  const publisher = new OutputPublisher();
  const endpoint = await publisher.bind(data.publish);
  const thread = new TrackerThread({
    data,
    pool,
    block,
    inputs,
    publisher,
    postOutputs: data.postOutputs
      ? (parts) => {
          const copies = parts.map((p) => new Uint8Array(p));
          post(
            { type: 'outputs', parts: copies },
            copies.map((c) => c.buffer as ArrayBuffer),
          );
        }
      : undefined,
    postPlan: data.postPlans
      ? (targetAccel, decision) => post({ type: 'plan', targetAccel, decision })
      : undefined,
    onLag: (stage, event, averageMs, expectedMs) =>
      (event === 'lagging' ? log.warn : log.info).call(
        log,
        {
          stage,
          averagePeriodMs: Number(averageMs.toFixed(2)),
          expectedPeriodMs: Number(expectedMs.toFixed(2)),
        },
        event === 'lagging'
          ? 'stage lagging: its frames come slower than its inputs'
          : 'stage recovered from lagging',
      ),
    onGeneration: (generation, appliedAtMs, firstFrameAtMs, error) =>
      post({ type: 'generation', generation, appliedAtMs, firstFrameAtMs, error }),
    onSplitReport: (report) => post({ type: 'split', report }),
    onStageError: (stage, err) =>
      limited.warn(
        `error:${stage}`,
        { stage, err: String((err as Error)?.stack ?? err) },
        'stage failed on a frame; it was released and the stage goes on',
      ),
  });
  onHeldLimit = (channel) => thread.releaseHeldFor(channel);
  port.on('message', (m: ToStageThread) => {
    if (m.type === 'reconfigure') thread.reconfigure(m);
  });
  post({ type: 'ready', endpoint, priority });
  await thread.run();
  // The split's final counts (replay --report reads them after the drive).
  post({ type: 'split', report: thread.splitReport() });
  inputs.close();
  await publisher.close();
  post({ type: 'stopped' });
  port.close();
}

main().catch((err: unknown) => {
  post({ type: 'error', stage: 'tracker', message: String((err as Error)?.stack ?? err) });
  port.close();
});
