import { describe, expect, it } from 'vitest';
import { fixtureDrive } from '../test-support/drives.js';
import { FIXTURE_DRIVES } from './fixture-drives.js';
import { digestDrive, readReferenceDigests } from './reference-outputs.js';

describe('reference outputs of the fixture drives (process replay)', () => {
  const reference = readReferenceDigests();

  it('holds a reference for every fixture drive', () => {
    expect(Object.keys(reference).sort()).toEqual(FIXTURE_DRIVES.map((d) => d.name).sort());
  });

  it.each(FIXTURE_DRIVES.map((d) => d.name))(
    '%s at --speed max gives the committed tracks and plans (npm run fixtures:reference rewrites them; say why)',
    async (name) => {
      const got = await digestDrive(await fixtureDrive(name));
      expect(got.trackLists).toBeGreaterThan(5);
      expect(got).toEqual(reference[name]);
    },
  );
});
