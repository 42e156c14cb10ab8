/** Shared helpers for the simulator's tests. */
import { createHash } from 'node:crypto';
import { DEFAULT_RIG, type SensorConfig } from '../wire/rig.js';
import {
  DriveSimulator,
  createSimMessage,
  type DriveSimulatorOptions,
  type SimMessage,
} from './drive-simulator.js';
import { parseScenario } from './scenario.js';
import type { Scenario } from './scenario-types.js';

export const SCENARIO_DIR = new URL('../../fixtures/scenarios/', import.meta.url).pathname;

/** A minimal valid scenario document whose `spec` body is `specYaml` (indented by 2). */
export function scenarioText(specYaml: string, name = 'test'): string {
  return [
    'apiVersion: smi-fusion.dev/v1alpha1',
    'kind: Scenario',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    ...specYaml
      .trim()
      .split('\n')
      .map((l) => `  ${l}`),
    '',
  ].join('\n');
}

export function scenarioFrom(specYaml: string): Scenario {
  return parseScenario(scenarioText(specYaml), 'inline.yaml');
}

/** The rig's sensor with `id`. */
export function sensor(id: string): SensorConfig {
  const s = DEFAULT_RIG.find((c) => c.id === id);
  if (!s) throw new Error(`no sensor ${id}`);
  return s;
}

/** Runs a simulator until `until` ns (or the end), calling `each` for every message. */
export function run(sim: DriveSimulator, each: (m: SimMessage) => void, untilNs?: bigint): void {
  const m = createSimMessage();
  for (;;) {
    const t = sim.peekNextNs();
    if (t === undefined || (untilNs !== undefined && t >= untilNs)) return;
    sim.next(m);
    each(m);
  }
}

/** The first message of sensor `id`, taken from a fresh simulator of `scenario`. */
export function firstFrame(
  scenario: Scenario,
  id: string,
  options: DriveSimulatorOptions = {},
): {
  sim: DriveSimulator;
  message: SimMessage;
} {
  const sim = new DriveSimulator(scenario, [sensor(id)], options);
  const message = createSimMessage();
  if (!sim.next(message)) throw new Error('no message');
  return { sim, message };
}

/** Float32 view of a message's payload (copied, so it outlives the next call). */
export function f32(m: SimMessage): Float32Array {
  return new Float32Array(m.payload.slice().buffer);
}

/** SHA-256 over every message's identity and payload bytes, up to `untilNs`. */
export function streamHash(scenario: Scenario, options: DriveSimulatorOptions, untilNs: bigint): string {
  const h = createHash('sha256');
  run(
    new DriveSimulator(scenario, DEFAULT_RIG, options),
    (m) => {
      h.update(`${m.sensorId}/${m.seq}/${m.tNs}/${m.count}|`);
      h.update(m.payload);
    },
    untilNs,
  );
  return h.digest('hex');
}
