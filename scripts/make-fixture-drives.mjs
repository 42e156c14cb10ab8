// Makes the fixture drives in fixtures/drives/ from the shipped scenarios (see
// src/io/fixture-drives.ts). Needs a build (dist/). Deterministic: same code, same files.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { FIXTURE_DRIVES, fixtureDrivePath, makeFixtureDrive } from '../dist/io/fixture-drives.js';

for (const d of FIXTURE_DRIVES) {
  const path = fixtureDrivePath(d.name);
  mkdirSync(dirname(path), { recursive: true });
  const r = await makeFixtureDrive(d);
  console.log(
    `${path}: ${d.seconds} s of ${d.scenario}, ${r.sensorMessages} sensor messages, ${(r.bytes / 1e6).toFixed(1)} MB`,
  );
}
