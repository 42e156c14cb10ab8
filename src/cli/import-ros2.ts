import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FileValidationError } from '../schema/yaml-file.js';
import { loadRos2Mapping, type Ros2Mapping } from '../io/ros2-mapping.js';
import { importRos2Bag, type Ros2ImportResult } from '../io/ros2-bag-import.js';
import type { ChunkCompression } from '../io/zstd-codec.js';
import type { FlagValues } from './flags.js';

/** The report printed after an import: one line per topic, the mounts, and where reading stopped. */
export function importReport(r: Ros2ImportResult): string {
  const lines: string[] = [];
  const seconds = r.lastLogNs > r.firstLogNs ? Number(r.lastLogNs - r.firstLogNs) / 1e9 : 0;
  const converted = r.topics.reduce((n, t) => n + t.converted, 0);
  lines.push(
    `${r.out}: ${converted} messages from ${r.bag} (${seconds.toFixed(2)} s), ${r.stats.messages} MCAP messages, ${(r.stats.bytes / 1e6).toFixed(1)} MB`,
  );
  for (const t of r.topics) {
    if (t.mapping && !t.whyNot) {
      const skipped = [...t.skipped].map(([why, n]) => `${n} x ${why}`);
      lines.push(
        `  ${t.mapping.sensor} (${t.mapping.kind}) <- ${t.topic}: ${t.converted} of ${t.messages} converted${skipped.length ? `; skipped: ${skipped.join('; ')}` : ''}`,
      );
      if (t.unknownLabels.size > 0) {
        const labels = [...t.unknownLabels].map(([label, n]) => `'${label}' (${n})`).join(', ');
        lines.push(`    labels read as class unknown (add them to the topic's classes): ${labels}`);
      }
    }
  }
  for (const m of r.mounts) {
    const yawDeg = (m.mount.yaw * 180) / Math.PI;
    lines.push(
      m.found
        ? `  mount of ${m.sensor} (frame ${m.frame}): x ${m.mount.x.toFixed(3)} y ${m.mount.y.toFixed(3)} z ${m.mount.z.toFixed(3)} yawDeg ${yawDeg.toFixed(2)}${m.levelled ? ' (roll/pitch applied to the points and boxes)' : ''}`
        : `  mount of ${m.sensor}: no transform from the base frame to '${m.frame}' in /tf_static; left at 0`,
    );
  }
  for (const t of r.topics) {
    if (t.whyNot && (!t.mapping || t.whyNot !== 'read for the mounts'))
      lines.push(
        `  ${t.mapping ? 'not converted' : 'unmapped'}: ${t.topic} (${t.schemaName || t.messageEncoding}, ${t.messages} messages): ${t.whyNot}`,
      );
  }
  if (r.outsideStampWindow > 0)
    lines.push(
      `  note: ${r.outsideStampWindow} messages have stamps more than ${r.spec.ingest.maxFutureMs} ms ahead of or ${r.spec.ingest.maxAgeMs} ms behind their bag log time; replay at speed 2/max will refuse them (use stamps: receive in the mapping)`,
    );
  return lines.join('\n');
}

/** `smi-fusion import ros2 BAG`: returns the exit code. */
export async function importRos2(flags: FlagValues, bag: string): Promise<number> {
  const prefix = 'smi-fusion import ros2';
  if (bag === undefined) {
    process.stderr.write(`${prefix}: BAG.mcap is required\n`);
    return 2;
  }
  if (flags.map === undefined) {
    process.stderr.write(`${prefix}: --map FILE is required (a Ros2Import mapping)\n`);
    return 2;
  }
  if (!existsSync(bag)) {
    process.stderr.write(`${prefix}: ${bag}: no such file\n`);
    return 2;
  }
  let mapping: Ros2Mapping;
  try {
    mapping = loadRos2Mapping(String(flags.map));
  } catch (err) {
    process.stderr.write(`${prefix}: --map: invalid mapping\n${(err as Error).message}\n`);
    return err instanceof FileValidationError ? 2 : 1;
  }
  const out =
    flags.out !== undefined ? String(flags.out) : join(dirname(bag), `${basename(bag, '.mcap')}.smi.mcap`);
  let r: Ros2ImportResult;
  try {
    r = await importRos2Bag({
      bag,
      out,
      mapping,
      compression: (flags.compression as ChunkCompression | undefined) ?? 'zstd',
    });
  } catch (err) {
    process.stderr.write(`${prefix}: ${(err as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`${importReport(r)}\n`);
  let failed = false;
  for (const topic of r.missing) {
    failed = true;
    const have =
      r.topics
        .map((t) => t.topic)
        .sort()
        .join(', ') || 'none';
    process.stderr.write(
      `${prefix}: ${mapping.file}: topic '${topic}' is not in ${bag} (its topics: ${have})\n`,
    );
  }
  for (const t of r.topics) {
    if (t.mapping && t.whyNot) {
      failed = true;
      process.stderr.write(
        `${prefix}: ${bag}: topic '${t.topic}' (sensor ${t.mapping.sensor}) not converted: ${t.whyNot}\n`,
      );
    }
  }
  if (!r.read.complete) {
    failed = true;
    process.stderr.write(
      `${prefix}: ${bag}: stopped at byte ${r.read.stoppedAtByte} of ${r.read.fileBytes}: ${r.read.reason}; ${out} holds what was read before\n`,
    );
  }
  return failed ? 1 : 0;
}
