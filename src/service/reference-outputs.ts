/**
 * Reference outputs of the fixture drives, as openpilot's process replay keeps them: each fixture
 * drive is replayed at `--speed max` (deterministic) and the tracks and plans it produces are
 * reduced to a SHA-256 per topic over every message's topic, header (without `publishedNs`, the
 * host's clock) and payload. `fixtures/reference-outputs.json` holds the committed digests; a
 * change that moves them rewrites the file (`npm run fixtures:reference`) in the same commit and
 * says why.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeHeader } from '../wire/codec.js';
import { readDriveMetadata } from '../io/mcap-drive-reader.js';
import { pipelineFromDrive } from '../io/drive-metadata.js';
import { ReplaySource } from '../sensors/replay-source.js';
import { createLogger } from '../telemetry/logger.js';
import { FusionService } from './fusion-service.js';
import { FIXTURE_DRIVES, fixtureDrivePath, makeFixtureDrive } from './fixture-drives.js';

export const REFERENCE_FILE = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../fixtures/reference-outputs.json',
);

/** Digest of one drive's outputs. */
export interface DriveDigest {
  trackLists: number;
  plans: number;
  tracks: string;
  plan: string;
}

export type ReferenceDigests = Record<string, DriveDigest>;

/** A header as canonical text: keys sorted, bigints as decimals, without publishedNs. */
function canonicalHeader(bytes: Uint8Array): string {
  const h = decodeHeader(bytes) as Record<string, unknown>;
  delete h.publishedNs;
  const sorted = Object.fromEntries(
    Object.keys(h)
      .sort()
      .map((k) => [k, h[k]]),
  );
  return JSON.stringify(sorted, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

/** Replays one drive at max speed through a fresh service and digests its outputs. */
export async function digestDrive(path: string): Promise<DriveDigest> {
  const log = createLogger('silent');
  const spec = pipelineFromDrive(await readDriveMetadata(path), path);
  spec.sources = [];
  spec.outputs.publish = 'tcp://127.0.0.1:*';
  spec.outputs.metrics.enabled = false;
  const tracks = createHash('sha256');
  const plan = createHash('sha256');
  let trackLists = 0;
  let plans = 0;
  const box: { service?: FusionService } = {};
  const source = new ReplaySource({
    path,
    speed: 'max',
    sensors: spec.sensors,
    log,
    whenIdle: () => box.service!.scheduler.whenIdle(),
  });
  const service = await FusionService.start(spec, {
    log,
    deterministic: true,
    extraSources: [(ingest) => source.bind(ingest)],
    outputTap: (parts) => {
      const topic = Buffer.from(parts[0]!).toString();
      const h = topic === 'out/tracks' ? tracks : topic === 'out/plan' ? plan : undefined;
      if (!h) return;
      if (h === tracks) trackLists++;
      else plans++;
      h.update(topic);
      h.update(canonicalHeader(parts[1]!));
      if (parts[2]) h.update(parts[2]);
    },
  });
  box.service = service;
  try {
    await source.play();
    await service.scheduler.whenIdle();
  } finally {
    await service.stop();
  }
  return { trackLists, plans, tracks: tracks.digest('hex'), plan: plan.digest('hex') };
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
