/**
 * The fixture drives in fixtures/drives/: short simulated drives that tests, examples and README
 * use. They are generated (deterministically) rather than committed: `npm run fixtures:drives`
 * makes them, `npm test` runs it first, and tests make a missing one on first use.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultPipelineSpec } from '../smi/spec/pipeline-spec.js';
import { resolveScenarioFile } from './simulator-source.js';
import { writeSimulatedDrive, type SimulateResult } from './simulated-drive.js';

/** Drives made from the shipped scenarios, kept to a few seconds (a lidar scan is ~1.5 MB compressed). */
export const FIXTURE_DRIVES = [
  { name: 'highway-following', scenario: 'highway-following', seconds: 2 },
  { name: 'cut-in', scenario: 'cut-in', seconds: 2 },
  { name: 'urban-clutter', scenario: 'urban-clutter', seconds: 1 },
] as const;

export type FixtureDrive = (typeof FIXTURE_DRIVES)[number];

const DRIVE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/drives');

export function fixtureDrivePath(name: string): string {
  return resolve(DRIVE_DIR, `${name}.mcap`);
}

/** Writes one fixture drive (built-in rig, the scenario's seed, zstd, Foxglove channels). */
export function makeFixtureDrive(d: FixtureDrive): Promise<SimulateResult> {
  const spec = defaultPipelineSpec();
  spec.sources = [
    { type: 'simulator', name: 'simulator-0', scenario: d.scenario, loop: false, closedLoop: false },
  ];
  return writeSimulatedDrive({
    scenarioFile: resolveScenarioFile(d.scenario),
    out: fixtureDrivePath(d.name),
    spec,
    durationS: d.seconds,
  });
}
