import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../test-support/drives.js';
import { TRACK } from '../wire/layouts.js';
import { overlayDocument } from '../smi/spec/spec-overlay.js';
import { DriveListError, globToRegExp, resolveDrives } from './drive-list.js';
import { parseShard, selectShard, shardFromEnv, ShardError } from './shard.js';
import { compareOutputs, type StampedTrackList } from './output-divergence.js';
import { DRIVE_REPORT_FORMAT, type DriveReport } from './drive-report.js';
import { mergeReports, ReportMergeError } from './report-merge.js';

const dir = tempDir('fleet');
const touch = (p: string, text = 'x') => {
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
};

describe('drive lists', () => {
  const root = join(dir, 'drives');
  for (const f of ['b.mcap', 'a.mcap', 'day2/c.mcap', 'day2/notes.txt', 'day3/deep/d.mcap'])
    touch(join(root, f));

  it('a directory gives every .mcap below it, sorted by name relative to it', () => {
    const l = resolveDrives(root);
    expect(l.kind).toBe('directory');
    expect(l.drives.map((d) => d.name)).toEqual(['a.mcap', 'b.mcap', 'day2/c.mcap', 'day3/deep/d.mcap']);
  });

  it('a glob matches within names (*) and across directories (**)', () => {
    expect(resolveDrives(join(root, '*.mcap')).drives.map((d) => d.name)).toEqual(['a.mcap', 'b.mcap']);
    expect(resolveDrives(join(root, '**/*.mcap')).drives).toHaveLength(4);
    expect(resolveDrives(join(root, 'day[23]/**/?.mcap')).drives.map((d) => d.name)).toEqual([
      'day2/c.mcap',
      'day3/deep/d.mcap',
    ]);
    expect(globToRegExp('a/**/b').test('a/b')).toBe(true);
    expect(globToRegExp('a/*').test('a/b/c')).toBe(false);
  });

  it('a list file: one drive per line, relative to the file, comments and duplicates dropped', () => {
    const list = join(root, 'list.txt');
    writeFileSync(list, '# today\nb.mcap\n\nday2/c.mcap  # the long one\nb.mcap\nmissing.mcap\n');
    const l = resolveDrives(list);
    expect(l.kind).toBe('list');
    // A listed drive that does not exist stays: its replay fails and says so.
    expect(l.drives.map((d) => d.name)).toEqual(['b.mcap', 'day2/c.mcap', 'missing.mcap']);
  });

  it('names nothing, or nothing matches: an error that says which', () => {
    expect(() => resolveDrives(join(dir, 'nowhere'))).toThrow(/no such directory, drive list or glob match/);
    expect(() => resolveDrives(join(root, '*.bag'))).toThrow(/no \.mcap file matches/);
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '# nothing yet\n');
    expect(() => resolveDrives(empty)).toThrow(DriveListError);
    expect(() => resolveDrives(empty)).toThrow(/the list is empty/);
  });
});

describe('shards', () => {
  const drives = Array.from({ length: 23 }, (_, i) => ({
    path: `/d/${i}`,
    name: `drive-${String(i).padStart(2, '0')}`,
  }));

  it('N shards cover every drive exactly once, whatever order the list came in', () => {
    for (const n of [1, 2, 3, 4, 7, 23, 30]) {
      const seen = new Map<string, number>();
      const shuffled = [...drives].reverse();
      for (let i = 0; i < n; i++)
        for (const d of selectShard(i % 2 ? drives : shuffled, { index: i, count: n }))
          seen.set(d.name, (seen.get(d.name) ?? 0) + 1);
      expect(seen.size).toBe(drives.length);
      expect([...seen.values()].every((c) => c === 1)).toBe(true);
    }
  });

  it('parses I/N and JOB_COMPLETION_INDEX, refusing what is out of range', () => {
    expect(parseShard('2/5')).toEqual({ index: 2, count: 5 });
    expect(() => parseShard('5/5')).toThrow(/shard index 5 is outside 0\.\.4 \(of 5 shards\)/);
    expect(() => parseShard('-1/5')).toThrow(/not a whole number/);
    expect(() => parseShard('1')).toThrow(/expected I\/N/);
    expect(() => parseShard('0/0')).toThrow(/shard count 0: allowed 1/);
    expect(shardFromEnv(4, { JOB_COMPLETION_INDEX: '3' })).toEqual({ index: 3, count: 4 });
    expect(() => shardFromEnv(4, {})).toThrow(/JOB_COMPLETION_INDEX is not set/);
    expect(() => shardFromEnv(4, { JOB_COMPLETION_INDEX: '4' })).toThrow(ShardError);
  });
});

/** A track list of (id, x, y, vx) rows. */
function tracks(stampNs: bigint, rows: [number, number, number, number][]): StampedTrackList {
  const v = new Float32Array(rows.length * TRACK.stride);
  rows.forEach(([id, x, y, vx], i) => {
    v[i * TRACK.stride + TRACK.id] = id;
    v[i * TRACK.stride + TRACK.x] = x;
    v[i * TRACK.stride + TRACK.y] = y;
    v[i * TRACK.stride + TRACK.vx] = vx;
  });
  return { stampNs, values: v };
}

describe('output divergence', () => {
  it('pairs tracks by nearest centre, counts one-sided tracks and disagreeing plans', () => {
    const primary = {
      trackLists: [
        tracks(1n, [[1, 10, 0, 5]]), // superseded by the next list of the same stamp
        tracks(1n, [
          [1, 10, 0, 5],
          [2, 30, 3, 0],
        ]),
        tracks(2n, [[1, 11, 0, 5]]),
        tracks(3n, [[1, 12, 0, 5]]),
      ],
      plans: [
        { stampNs: 1n, decision: 'follow', targetAccel: -0.5 },
        { stampNs: 2n, decision: 'follow', targetAccel: -0.5 },
      ],
    };
    const candidate = {
      trackLists: [
        tracks(1n, [
          [7, 10.5, 0, 4],
          [8, 60, 0, 0],
        ]),
        tracks(2n, [[7, 11.3, 0, 5]]),
      ],
      plans: [
        { stampNs: 1n, decision: 'follow', targetAccel: -1.5 },
        { stampNs: 2n, decision: 'brake', targetAccel: -3.5 },
      ],
    };
    const d = compareOutputs(primary, candidate);
    expect(d.framesOnlyPrimary).toBe(1);
    expect(d.framesOnlyCandidate).toBe(0);
    const c = d.compared;
    expect(c.frames).toBe(2);
    expect(c.matchedTracks).toBe(2);
    expect(c.position.max).toBeCloseTo(0.5, 2);
    expect(c.position.mean).toBeCloseTo(0.4, 2);
    expect(c.velocity.max).toBeCloseTo(1, 2);
    expect(c.onlyPrimary).toBe(1); // track 2 at (30, 3)
    expect(c.onlyOther).toBe(1); // track 8 at (60, 0)
    expect(c).toMatchObject({ plans: 2, decisionsDiffering: 1 });
    expect(d.decisionPairs).toEqual({ 'follow→brake': 1 });
    expect(d.firstDisagreements).toEqual([{ atS: 1e-9, primary: 'follow', candidate: 'brake' }]);
    expect(c.targetAccel.max).toBeCloseTo(3, 2);
  });

  it('identical outputs do not diverge', () => {
    const run = {
      trackLists: [tracks(5n, [[1, 3, 4, 1]])],
      plans: [{ stampNs: 5n, decision: 'cruise', targetAccel: 0 }],
    };
    const d = compareOutputs(run, run).compared;
    expect(d).toMatchObject({ matchedTracks: 1, onlyPrimary: 0, onlyOther: 0, framesDiffering: 0 });
    expect(d.position.max).toBe(0);
    expect(d.decisionsDiffering).toBe(0);
  });
});

describe('spec overlay', () => {
  it('merges mappings by key and named lists by name; the rest is replaced', () => {
    const base = {
      kind: 'Pipeline',
      spec: {
        planning: { timeGapS: 1.8, accEnabled: true },
        stages: [
          { name: 'tracker', budgetMs: 15 },
          { name: 'planner', budgetMs: 20 },
        ],
        sensors: [{ id: 'a' }],
      },
    };
    const out = overlayDocument(base, {
      spec: { planning: { timeGapS: 1.2 }, stages: [{ name: 'planner', budgetMs: 10 }, { name: 'extra' }] },
    });
    expect(out).toEqual({
      kind: 'Pipeline',
      spec: {
        planning: { timeGapS: 1.2, accEnabled: true },
        stages: [{ name: 'tracker', budgetMs: 15 }, { name: 'planner', budgetMs: 10 }, { name: 'extra' }],
        sensors: [{ id: 'a' }],
      },
    });
    expect(base.spec.planning.timeGapS).toBe(1.8); // the base is not modified
  });
});

function report(name: string, version: string, over: Partial<DriveReport> = {}): DriveReport {
  return {
    format: DRIVE_REPORT_FORMAT,
    version,
    drive: { name, path: `/d/${name}`, bytes: 1 },
    host: { hostname: 'h', cpus: 2, node: 'v20' },
    startedAt: '2026-12-01T00:00:00Z',
    wallSeconds: 1,
    ok: true,
    primary: {
      pipeline: { name: 'p', digest: 'd'.repeat(64), source: 'recorded' },
      outputs: { trackLists: 10, plans: 10, tracksDigest: `t-${name}`, planDigest: `p-${name}` },
      decisions: { cruise: 10 },
      headline: {
        trackLists: 10,
        plans: 10,
        mota: 80,
        hota: 70,
        samota: 85,
        idsw: 0,
        fp: 1,
        fn: 1,
        collision: false,
        minGapM: 10,
        minTtcS: 3,
        peakDecelMps2: 1,
        falseActivations: 0,
        trackP99Ms: 1,
        planP99Ms: 1,
      },
      replay: { driveSeconds: 60 },
      closedLoop: null,
      wallSeconds: 1,
    },
    ...over,
  };
}

describe('report merge', () => {
  it('names versions that differ, drives reported twice and unreadable files', () => {
    const a = join(dir, 'm/a');
    const b = join(dir, 'm/b');
    mkdirSync(a, { recursive: true });
    mkdirSync(b, { recursive: true });
    writeFileSync(join(a, 'x.report.json'), JSON.stringify(report('x.mcap', '0.1.0')));
    writeFileSync(join(b, 'y.report.json'), JSON.stringify(report('y.mcap', '0.2.0')));
    writeFileSync(join(b, 'x.report.json'), JSON.stringify(report('x.mcap', '0.1.0')));
    writeFileSync(join(b, 'z.report.json'), '{ half a rep');
    const m = mergeReports([a, b]);
    const w = m.warnings.join('\n');
    expect(w).toMatch(/different smi-fusion versions: 0\.1\.0 \(1\), 0\.2\.0 \(1\)/);
    expect(w).toMatch(/drive x\.mcap reported twice/);
    expect(w).toMatch(/z\.report\.json: not readable JSON/);
    expect(m.totals).toMatchObject({ drives: 2, replayed: 2, failed: 0, scoredDrives: 2, meanMota: 80 });
    expect(m.totals.driveHours).toBeCloseTo(2 / 60, 9);
  });

  it('orders a collision the candidate adds first', () => {
    const d = join(dir, 'm/c');
    mkdirSync(d, { recursive: true });

    const withCand = (name: string, collision: boolean, motaDelta: number): DriveReport => {
      const r = report(name, '0.1.0');
      const c = structuredClone(r.primary!);
      c.headline.collision = collision;
      c.headline.mota = 80 + motaDelta;
      c.outputs.planDigest = 'other';
      r.candidate = c;
      r.candidateDigest = 'c'.repeat(64);
      r.deltas = { collision: collision ? 1 : 0, mota: motaDelta, falseActivations: 0 };
      r.divergence = compareOutputs({ trackLists: [], plans: [] }, { trackLists: [], plans: [] });
      return r;
    };

    writeFileSync(join(d, 'a.report.json'), JSON.stringify(withCand('a.mcap', false, -2)));
    writeFileSync(join(d, 'b.report.json'), JSON.stringify(withCand('b.mcap', true, 0)));
    writeFileSync(join(d, 'c.report.json'), JSON.stringify(withCand('c.mcap', false, 1)));
    const m = mergeReports([d]);
    expect(m.drives.map((x) => x.name)).toEqual(['b.mcap', 'a.mcap', 'c.mcap']);
    expect(m.totals.candidate).toMatchObject({ collisionsAdded: 1, drivesWithDifferentOutputs: 3 });
    expect(m.totals.candidate!.meanMotaDelta).toBeCloseTo(-1 / 3, 9);
  });

  it('refuses a directory with no reports', () => {
    const e = join(dir, 'm/empty');
    mkdirSync(e, { recursive: true });
    expect(() => mergeReports([e])).toThrow(ReportMergeError);
    expect(() => mergeReports([join(dir, 'm/none')])).toThrow(/cannot read/);
  });
});
