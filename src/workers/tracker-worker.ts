/**
 * Entry point of the tracker's thread (see TrackerThread): attaches the pool and the scheduler
 * block, runs until the main thread asks it to stop, and releases everything it holds on the way
 * out. Its outputs go to the output ring (the main thread owns the PUB socket), so the thread can
 * die or be terminated without taking the process with it. Started as a standby, it attaches and
 * waits for 'activate' (the supervisor's failover), then runs like any tracker thread, resuming
 * from the checkpoint in shared memory.
 *
 * A failure after start (an exception out of the loop) is posted as 'failed' and the thread
 * exits at once without closing its readers: the supervisor hands them to the replacement.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { IngestCounterBlock } from '../sensors/ingest-counters.js';
import { IngestStage } from '../sensors/ingest-stage.js';
import { OutputRing } from './output-ring.js';
import { StageInputs } from './stage-inputs.js';
import { activateStageThread, attachStageThread, type AttachedStageThread } from './stage-thread-attach.js';
import { TrackerThread } from './tracker-thread.js';
import { warmUpTracker } from './tracker-warm-up.js';
import type { FromStageThread, ToStageThread, TrackerThreadData } from './stage-thread-protocol.js';

const port = parentPort!;
const post = (m: FromStageThread, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
let started = false;

/** A standby waits here for the data to run under (or a stop). */
function activation(): Promise<TrackerThreadData | undefined> {
  return new Promise((resolve) => {
    const onMessage = (m: ToStageThread): void => {
      if (m.type !== 'activate' && m.type !== 'stop') return;
      port.off('message', onMessage);
      resolve(m.type === 'activate' ? m.data : undefined);
    };
    port.on('message', onMessage);
  });
}

async function main(): Promise<void> {
  const initial = workerData as TrackerThreadData;
  const attached = attachStageThread(initial, 'tracker', { standby: initial.standby });
  // A standby builds everything but its readers now, so that taking over costs only the binding.
  let built = build({ ...initial, resume: false }, attached, !initial.standby);
  let data = initial;
  if (initial.standby) {
    warmUpTracker(initial);
    post({ type: 'standby' });
    const given = await activation();
    if (!given) {
      port.close();
      return;
    }
    data = given;
    activateStageThread(attached, data);
    // Built under another generation (a reload since it was loaded): build again.
    if (given.generation !== initial.generation) built = build(given, attached, false);
    built.inputs.open(given.readerEntries);
  }
  if (data.resume) built.thread.resumeFromCheckpoint();
  await run(data, attached, built);
}

interface BuiltThread {
  inputs: StageInputs;
  thread: TrackerThread;
}

function build(data: TrackerThreadData, attached: AttachedStageThread, openInputs: boolean): BuiltThread {
  const { log, limited, pool, block } = attached;
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
    openInputs,
  );
  const ring = OutputRing.attach(data.outputRingSab);
  const thread = new TrackerThread({
    data,
    pool,
    block,
    inputs,
    publisher: { publish: (parts) => ring.write(parts) },
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
  return { inputs, thread };
}

async function run(
  data: TrackerThreadData,
  attached: AttachedStageThread,
  built: BuiltThread,
): Promise<void> {
  const { inputs, thread } = built;
  const { priority } = attached;
  port.on('message', (m: ToStageThread) => {
    if (m.type === 'reconfigure') thread.reconfigure(m);
    if (m.type === 'inject-fault' && data.faultInjection && m.fault === 'throw') thread.injectThrow();
  });
  post({ type: 'ready', priority, readers: inputs.entries(), resumed: thread.resumed });
  started = true;
  await thread.run();
  // The split's final counts (replay --report reads them after the drive).
  post({ type: 'split', report: thread.splitReport() });
  inputs.close();
  post({ type: 'stopped' });
  port.close();
}

main().catch((err: unknown) => {
  const message = String((err as Error)?.stack ?? err);
  if (!started) {
    post({ type: 'error', stage: 'tracker', message });
    port.close();
    return;
  }
  // Fail-stop: nothing more is touched (the readers stay bound for the supervisor's handover).
  post({ type: 'failed', stage: 'tracker', message });
  process.exit(1);
});
