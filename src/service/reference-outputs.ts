/**
 * Reference outputs of the fixture drives, as openpilot's process replay keeps them: each fixture
 * drive is replayed at `--speed max` (deterministic) and the tracks and plans it produces are
 * reduced to a SHA-256 per topic over every message's topic, header (without `publishedNs`, the
 * host's clock) and payload. `fixtures/reference-outputs.json` holds the committed digests; a
 * change that moves them rewrites the file (`npm run fixtures:reference`) in the same commit and
 * says why.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDriveMetadata } from '../io/mcap-drive-reader.js';
import { pipelineFromDrive } from '../io/drive-metadata.js';
import { createLogger } from '../telemetry/logger.js';
import { replayDrive } from './drive-replay.js';
import { OutputDigest, type DriveDigest } from './output-digest.js';
import { FIXTURE_DRIVES, fixtureDrivePath, makeFixtureDrive } from './fixture-drives.js';

export const REFERENCE_FILE = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../fixtures/reference-outputs.json',
);

export type { DriveDigest };

export type ReferenceDigests = Record<string, DriveDigest>;

/** Replays one drive at max speed through a fresh service and digests its outputs. */
export async function digestDrive(path: string): Promise<DriveDigest> {
  const log = createLogger('silent');
  const spec = pipelineFromDrive(await readDriveMetadata(path), path);
  spec.outputs.publish = 'tcp://127.0.0.1:*';
  spec.outputs.metrics.enabled = false;
  const digest = new OutputDigest();
  await replayDrive({ path, spec, speed: 'max', log, outputTap: digest.tap });
  return digest.result();
}

/** Digests of every fixture drive (made first when missing). */
export async function fixtureDigests(): Promise<ReferenceDigests> {
  const out: ReferenceDigests = {};
  for (const d of FIXTURE_DRIVES) {
    const path = fixtureDrivePath(d.name);
    if (!existsSync(path)) await makeFixtureDrive(d);
    out[d.name] = await digestDrive(path);
  }
  return out;
}

export function readReferenceDigests(): ReferenceDigests {
  return JSON.parse(readFileSync(REFERENCE_FILE, 'utf8')) as ReferenceDigests;
}

export function writeReferenceDigests(d: ReferenceDigests): void {
  writeFileSync(REFERENCE_FILE, `${JSON.stringify(d, null, 2)}\n`);
}
