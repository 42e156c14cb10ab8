import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { readAll, tempDir } from '../test-support/drives.js';
import { TEST_CARS, labelLines, writeKittiSequence, CALIB_TEXT } from '../test-support/kitti-files.js';
import { decodeWireMessage } from './mcap-wire-message.js';
import { TRUTH_DONTCARE_TOPIC, TRUTH_IGNORED_TOPIC, TRUTH_TOPIC, META } from './drive-format.js';
import {
  KittiFormatError,
  parseCalibFile,
  parseDetectionFile,
  parseOxtsFile,
  parseTrackingFile,
} from './kitti-format.js';
import {
  cameraMount,
  cameraToSensor,
  oxtsToEgo,
  projectBox,
  sensorToCamera,
  baseLinkToCamera,
} from './kitti-geometry.js';
import { writeKittiDrive } from './kitti-drive.js';
import { exportGeometry, KittiTrackExport, kittiVisibility } from './kitti-export.js';
import { kittiSequence } from './kitti-evaluation.js';
import { evaluateMot, KITTI_MATCH } from '../metrics/index.js';
import { TRACK } from '../wire/layouts.js';
import { readDriveMetadata } from './mcap-drive-reader.js';

const dir = tempDir('kitti');

describe('KITTI tracking files', () => {
  it('parses labels, detections, calibration and oxts', () => {
    const labels = parseTrackingFile(labelLines(TEST_CARS, 2).join('\n'), 'l.txt');
    expect(labels.filter((l) => l.frame === 0).map((l) => l.type)).toEqual(['Car', 'Van', 'Car', 'DontCare']);
    expect(labels[0]).toMatchObject({
      frame: 0,
      trackId: 0,
      truncated: 0,
      h: 1.5,
      w: 1.8,
      l: 4.5,
      x: -3,
      z: 30,
    });
    expect(Number.isNaN(labels[0]!.score)).toBe(true);
    const dets = parseDetectionFile('0,2,1,2,3,4,7.5,1.5,1.6,4.2,1,1.6,20,-1.5,-1.6\n\n', 'd.txt');
    expect(dets).toEqual([
      expect.objectContaining({
        frame: 0,
        trackId: -1,
        type: 'Car',
        score: 7.5,
        h: 1.5,
        w: 1.6,
        l: 4.2,
        z: 20,
        ry: -1.5,
      }),
    ]);
    const calib = parseCalibFile(CALIB_TEXT, 'c.txt');
    expect(calib.P2[0]).toBeCloseTo(721.5377, 4);
    const oxts = parseOxtsFile(`49.0 8.4 ${'0 '.repeat(28)}\n49.00001 8.4 ${'0 '.repeat(28)}`, 'o.txt');
    expect(oxts).toHaveLength(2);
    // 1e-5° of latitude is 1.11 m on the ground (Mercator scaled by cos(latitude)).
    expect(oxtsToEgo(oxts)[1]![1]).toBeCloseTo(1.113, 2);
  });

  it('names the file, line and field of every error', () => {
    const bad = (fn: () => unknown): string => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(KittiFormatError);
        return (err as Error).message;
      }
      throw new Error('no error');
    };
    const good = labelLines(TEST_CARS, 1)[0]!;
    expect(bad(() => parseTrackingFile(`${good}\n${good} 1 2`, 'labels/0001.txt'))).toBe(
      'labels/0001.txt:2: 19 fields; a KITTI tracking line has 17 (labels) or 18 (results, with score)',
    );
    expect(bad(() => parseTrackingFile(good.replace(' 1.5 ', ' tall '), 'l.txt'))).toBe(
      "l.txt:1: h 'tall' is not a finite number",
    );
    expect(bad(() => parseTrackingFile(good.replace(/^0 /, '-2 '), 'l.txt'))).toMatch(/l.txt:1: frame -2/);
    expect(bad(() => parseTrackingFile(good.replace(' 4.5 ', ' -4.5 '), 'l.txt'))).toMatch(
      /box size .* must be > 0/,
    );
    expect(bad(() => parseDetectionFile('0,7,1,2,3,4,7,1,1,1,0,0,9,0,0', 'det.txt'))).toBe(
      'det.txt:1: type 7 is not 1 (Pedestrian), 2 (Car) or 3 (Cyclist)',
    );
    expect(bad(() => parseDetectionFile('0,2,1,2,3,4,7', 'det.txt'))).toMatch(
      /det.txt:1: 7 fields; a detection line has 15/,
    );
    expect(bad(() => parseCalibFile(CALIB_TEXT.replace(/^P2.*$/m, 'P2: 1 2 3'), 'c.txt'))).toBe(
      'c.txt:3: P2 has 3 numbers; expected 12',
    );
    expect(bad(() => parseCalibFile('R_rect 1 0 0 0 1 0 0 0 1', 'c.txt'))).toBe('c.txt:0: no P2 entry');
    expect(bad(() => parseOxtsFile('91 0 0', 'o.txt'))).toMatch(/o.txt:1: 3 fields/);
  });

  it('maps camera boxes to the ISO sensor frame and back, and the camera onto base_link', () => {
    const box = { x: 2.5, y: 1.6, z: 17, h: 1.5, w: 1.7, l: 4.2, ry: -1.2 };
    const s = cameraToSensor(box);
    // 17 m ahead, 2.5 m to the right, centre 0.85 m below the camera; ry = -π/2 is straight ahead.
    expect(s.x).toBeCloseTo(17, 12);
    expect(s.y).toBeCloseTo(-2.5, 12);
    expect(s.z).toBeCloseTo(-0.85, 12);
    expect(cameraToSensor({ ...box, ry: -Math.PI / 2 }).yaw).toBeCloseTo(0, 12);
    const back = sensorToCamera(s);
    for (const k of ['x', 'y', 'z', 'h', 'w', 'l', 'ry'] as const) expect(back[k]).toBeCloseTo(box[k], 12);
    const mount = cameraMount(parseCalibFile(CALIB_TEXT, 'c'));
    expect(mount.x).toBeCloseTo(1.08, 6);
    expect(mount.y).toBeCloseTo(-0.32, 6);
    expect(mount.yaw).toBeCloseTo(0, 9);
    expect(mount.z).toBe(1.65);
    const cam = baseLinkToCamera(mount, { ...s, x: s.x + mount.x, y: s.y + mount.y, z: s.z + mount.z });
    expect(cam.x).toBeCloseTo(box.x, 9);
    expect(cam.z).toBeCloseTo(box.z, 9);
    // Straight ahead at 20 m, the box projects around the principal point (u 609.6).
    const P2 = parseCalibFile(CALIB_TEXT, 'c').P2;
    const [u0, , u1] = projectBox(P2, { x: 0, y: 1.65, z: 20, h: 1.5, w: 1.8, l: 4.5, ry: -Math.PI / 2 })!;
    expect((u0 + u1) / 2).toBeGreaterThan(600);
    expect((u0 + u1) / 2).toBeLessThan(625);
    expect(projectBox(P2, { x: 0, y: 1.65, z: -20, h: 1.5, w: 1.8, l: 4.5, ry: 0 })).toBeUndefined();
    expect(projectBox(P2, { x: 80, y: 1.65, z: 5, h: 1.5, w: 1.8, l: 4.5, ry: 0 })).toBeUndefined();
  });

  it('imports a sequence as a drive: detections as object lists, truth by the Car rules, DontCare', async () => {
    const files = writeKittiSequence(dir, '0042');
    const out = join(dir, '0042.mcap');
    const r = await writeKittiDrive(
      {
        name: '0042',
        detections: join(files.detections, '0042.txt'),
        calib: join(files.calib, '0042.txt'),
        labels: join(files.labels, '0042.txt'),
      },
      out,
    );
    // 30 frames; car 0 in all, car 1 in 25 but missed once, the truncated car in all: 84 detections.
    expect(r).toMatchObject({
      frames: 30,
      detections: 30 + 24 + 30,
      truth: 30 + 25,
      ignored: 30 + 30,
      scoreMode: 'logit',
    });
    const { records } = await readAll(out);
    const by = (topic: string) =>
      records.flatMap((rec) =>
        rec.type === 'message' && rec.message.channel.topic === topic ? [rec.message] : [],
      );
    const objects = by('sensor/objects/kitti_objects');
    expect(objects).toHaveLength(30);
    expect(objects.map((m) => m.publishTimeNs)).toEqual(
      Array.from({ length: 30 }, (_, k) => BigInt(k) * 100_000_000n),
    );
    expect(by('sensor/ego/ego')).toHaveLength(30);
    const count = (m: (typeof objects)[number]) => decodeWireMessage(m.data).payload!.byteLength;
    expect(by(TRUTH_TOPIC).map(count).slice(4, 7)).toEqual([52, 104, 104]);
    expect(by(TRUTH_IGNORED_TOPIC).map(count)[0]).toBe(104);
    expect(by(TRUTH_DONTCARE_TOPIC).map(count)[0]).toBe(16);
    const meta = await readDriveMetadata(out);
    expect(meta[META.kitti]).toMatchObject({ sequence: '0042', score: 'logit', class: 'Car', frames: '30' });
  });

  it('fails an import naming the file and line of bad data, writing nothing usable', async () => {
    const files = writeKittiSequence(dir, '0043');
    writeFileSync(
      join(files.detections, '0043.txt'),
      '0,2,500,150,700,250,8,1.5,1.8,4.5,0,1.65,20,-1.57,-1.57\n1,2,oops\n',
    );
    await expect(
      writeKittiDrive(
        {
          name: '0043',
          detections: join(files.detections, '0043.txt'),
          calib: join(files.calib, '0043.txt'),
        },
        join(dir, '0043.mcap'),
      ),
    ).rejects.toThrow(`${join(files.detections, '0043.txt')}:2: 3 fields; a detection line has 15`);
  });

  it('exports tracks as KITTI result lines that read back to the same boxes', () => {
    const calib = parseCalibFile(CALIB_TEXT, 'c');
    const mount = cameraMount(calib);
    const g = { sequence: '0042', mount, P2: calib.P2, frameNs: 100_000_000n, startNs: 0n };
    const box = { x: 2.5, y: 1.65, z: 17, h: 1.5, w: 1.7, l: 4.2, ry: -1.2 };
    const s = cameraToSensor(box);
    const rec = new Float32Array(2 * TRACK.stride);
    const put = (i: number, sx: number, sy: number) => {
      const o = i * TRACK.stride;
      rec[o + TRACK.id] = 7 + i;
      rec[o + TRACK.classId] = 1;
      rec[o + TRACK.x] = sx + mount.x;
      rec[o + TRACK.y] = sy + mount.y;
      rec[o + TRACK.z] = s.z + mount.z;
      rec[o + TRACK.length] = s.length;
      rec[o + TRACK.width] = s.width;
      rec[o + TRACK.height] = s.height;
      rec[o + TRACK.yaw] = s.yaw;
      rec[o + TRACK.existence] = 0.875;
    };
    put(0, s.x, s.y);
    put(1, -20, 0); // behind the camera: not in a KITTI frame
    const exp = new KittiTrackExport(g, join(dir, 'results'));
    exp.add(300_000_000n, rec, 2);
    const written = exp.finish();
    expect(written.lines).toBe(1);
    const back = parseTrackingFile(readFileSync(written.path, 'utf8'), written.path);
    expect(back).toHaveLength(1);
    expect(back[0]).toMatchObject({ frame: 3, trackId: 7, type: 'Car', score: 0.875 });
    for (const k of ['x', 'y', 'z', 'h', 'w', 'l', 'ry'] as const) expect(back[0]![k]).toBeCloseTo(box[k], 4);
    expect(back[0]!.x2 - back[0]!.x1).toBeGreaterThan(50);
    expect(
      kittiVisibility(
        g,
        {
          x: rec[TRACK.x]!,
          y: rec[TRACK.y]!,
          z: rec[TRACK.z]!,
          length: 4.2,
          width: 1.7,
          height: 1.5,
          yaw: s.yaw,
        },
        new Float32Array(0),
      ),
    ).toBe('scored');
    expect(
      kittiVisibility(
        g,
        { x: -20, y: 0, z: 0.7, length: 4.2, width: 1.7, height: 1.5, yaw: 0 },
        new Float32Array(0),
      ),
    ).toBe('outside');
  });

  it('scores results by the Car rules: Vans, truncated cars, DontCare and tiny boxes are ignored', async () => {
    const labels = parseTrackingFile(labelLines(TEST_CARS, 30).join('\n'), 'l');
    // Results = every label of a Car or Van (the truncated car and the Van too), plus a false
    // positive in the DontCare region, one 20 px tall, and one real false positive in frame 3.
    const results = labels
      .filter((l) => l.type !== 'DontCare')
      .map((l) => ({ ...l, type: 'Car', score: 0.9, trackId: l.trackId + 100 }));
    const fp = { ...results[0]!, trackId: 900, x: 9, z: 40, frame: 0 };
    results.push({ ...fp, x1: 1150, x2: 1200, y1: 160, y2: 190 });
    results.push({ ...fp, trackId: 901, x: -9, x1: 100, x2: 120, y1: 100, y2: 120 });
    results.push({ ...fp, trackId: 902, x: 12, frame: 3, x1: 100, x2: 200, y1: 100, y2: 200 });
    const e = evaluateMot([kittiSequence('s', labels, results)], KITTI_MATCH);
    expect(e.clear.gt).toBe(55);
    expect(e.clear.tp).toBe(55);
    expect(e.clear.fn).toBe(0);
    expect(e.clear.fp).toBe(1);
    expect(e.clear.idsw).toBe(0);
    expect(e.clear.mota).toBeCloseTo(1 - 1 / 55, 12);
    expect(e.hota.hota).toBeGreaterThan(0.98);
    const meta = await readDriveMetadata(join(dir, '0042.mcap'));
    expect(exportGeometry(meta, join(dir, '0042.mcap')).mount.x).toBeCloseTo(1.08, 6);
  });
});
