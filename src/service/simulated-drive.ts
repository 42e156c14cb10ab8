/**
 * `smi-fusion simulate`: runs a scenario through the simulator offline, as fast as it goes, and
 * writes the drive with ground truth. Open loop (no planner runs, the ego follows its script).
 * Stamps are the scenario clock: ns from the scenario start, so the same scenario and seed give
 * the same messages in every file.
 */
import { basename } from 'node:path';
import { DriveSimulator, GT, createSimMessage, loadScenarioFile } from '../sim/index.js';
import type { PipelineSpec } from '../smi/spec/pipeline-spec.js';
import { encodeHeader, sensorTopic } from '../wire/codec.js';
import { makeSensorHeader } from '../wire/header-validator.js';
import { WIRE_VERSION } from '../wire/header.js';
import { META, TRUTH_LAYOUT, TRUTH_TOPIC } from '../io/drive-format.js';
import { driveMetadata } from '../io/drive-metadata.js';
import { DriveWriter, type DriveWriterStats } from '../io/mcap-drive-writer.js';
import { encodeWireMessage } from '../io/mcap-wire-message.js';
import type { ChunkCompression } from '../io/zstd-codec.js';

export interface SimulateOptions {
  scenarioFile: string;
  out: string;
  /** The pipeline recorded with the drive; its sensors are the simulated rig. */
  spec: PipelineSpec;
  seed?: number;
  /** Stop after this many seconds of scenario time (default: the scenario's duration). */
  durationS?: number;
  compression?: ChunkCompression;
  foxglove?: boolean;
}

export interface SimulateResult extends DriveWriterStats {
  sensorMessages: number;
  truthMessages: number;
  durationNs: bigint;
}

/** Ground truth is sampled at every ego odometry message (100 Hz with the built-in rig). */
const TRUTH_ON = 'ego';

/** Writes a simulated drive; resolves when the file is complete and indexed. */
export async function writeSimulatedDrive(o: SimulateOptions): Promise<SimulateResult> {
  const rig = o.spec.sensors;
  const scenario = loadScenarioFile(o.scenarioFile, { sensorIds: rig.map((s) => s.id) });
  const sim = new DriveSimulator(scenario, rig, { seed: o.seed });
  const endNs =
    o.durationS !== undefined
      ? BigInt(Math.round(Math.min(o.durationS, scenario.duration) * 1e9))
      : sim.durationNs;
  const writer = await DriveWriter.create(
    o.out,
    { sensors: rig, compression: o.compression, foxglove: o.foxglove },
    driveMetadata({
      producer: 'simulate',
      spec: o.spec,
      startNs: 0n,
      clock: 'scenario',
      extra: {
        [META.scenario]: {
          name: scenario.name,
          file: basename(o.scenarioFile),
          seed: String(sim.seed),
          durationS: String(Number(endNs) / 1e9),
          description: scenario.description,
        },
      },
    }),
  );
  const topics = rig.map((s) => sensorTopic(s.kind, s.id));
  const truth = new Float32Array(Math.max(1, sim.actorCount) * GT.stride);
  const msg = createSimMessage();
  let sensorMessages = 0;
  let truthSeq = 0;
  try {
    while (sim.next(msg) && msg.tNs < endNs) {
      const header = encodeHeader(makeSensorHeader(msg.kind, msg.sensorId, msg.seq, msg.tNs, msg.count));
      await writer.addWire(topics[msg.sensorIndex]!, encodeWireMessage(header, msg.payload), msg.tNs);
      sensorMessages++;
      if (msg.kind === TRUTH_ON) {
        const count = sim.groundTruth(truth, 'base_link');
        const th = encodeHeader({
          v: WIRE_VERSION,
          kind: 'truth',
          seq: truthSeq++,
          stampNs: msg.tNs,
          frame: 'base_link',
          fields: TRUTH_LAYOUT.fields,
          stride: TRUTH_LAYOUT.stride,
          count,
        });
        const bytes = new Uint8Array(truth.buffer, 0, count * TRUTH_LAYOUT.stride);
        await writer.addWire(TRUTH_TOPIC, encodeWireMessage(th, bytes), msg.tNs);
      }
    }
    const stats = await writer.end({
      sensorMessages: String(sensorMessages),
      truthMessages: String(truthSeq),
      dropped: '0',
    });
    return { ...stats, sensorMessages, truthMessages: truthSeq, durationNs: endNs };
  } catch (err) {
    writer.abandon();
    throw err;
  }
}
