/**
 * The metadata records a drive starts with (names in drive-format.ts): what made it, the pipeline
 * spec it ran under, and the calibration (sensor mounts). Replay rebuilds the pipeline from them.
 */
import { readFileSync } from 'node:fs';
import { API_VERSION, parsePipelineSpec, type PipelineSpec } from '../smi/spec/pipeline-spec.js';
import { overlayDocument } from '../smi/spec/spec-overlay.js';
import { DRIVE_FORMAT_VERSION, META } from './drive-format.js';
import type { DriveMetadata } from './mcap-drive-writer.js';

/** The package version (package.json), recorded in every drive. */
export function softwareVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** A resolved spec as a Pipeline document (the YAML schema's shape, as JSON), for the drive. */
export function pipelineDocument(spec: PipelineSpec): object {
  return {
    apiVersion: API_VERSION,
    kind: 'Pipeline',
    metadata: { name: spec.name },
    spec: {
      // An imported drive has no sources of its own (replay supplies them); the schema wants
      // at least one when the field is there.
      ...(spec.sources.length > 0 ? { sources: spec.sources } : {}),
      sensors: spec.sensors.map((s) => ({
        id: s.id,
        kind: s.kind,
        rateHz: s.rateHz,
        mount: { x: s.mount.x, y: s.mount.y, z: s.mount.z, yawDeg: (s.mount.yaw * 180) / Math.PI },
        fovDeg: s.fovDeg,
        rangeM: s.rangeM,
      })),
      channels: spec.channels,
      ingest: spec.ingest,
      fusion: spec.fusion,
      planning: spec.planning,
      outputs: {
        publish: spec.outputs.publish,
        metrics: spec.outputs.metrics,
        ...(spec.outputs.foxglove
          ? {
              foxglove: {
                host: spec.outputs.foxglove.host,
                port: spec.outputs.foxglove.port,
                sendBufferMb: spec.outputs.foxglove.sendBufferBytes / 2 ** 20,
              },
            }
          : {}),
      },
      stages: spec.stages,
      scheduler: spec.scheduler,
    },
  };
}

export interface DriveOrigin {
  /** What made the drive. */
  producer: 'record' | 'simulate' | 'import';
  spec: PipelineSpec;
  /** Time base of the drive's stamps: the first stamp to expect, ns. */
  startNs: bigint;
  /**
   * `host-monotonic` (recorded), `scenario` (ns from the scenario start) or `bag` (the stamps of
   * an imported bag: its header stamps, on whatever clock its drivers used).
   */
  clock: 'host-monotonic' | 'scenario' | 'bag';
  /** Extra records (e.g. the scenario). */
  extra?: DriveMetadata;
}

/** The metadata records written at the start of a drive. */
export function driveMetadata(origin: DriveOrigin): DriveMetadata {
  const calibration: Record<string, string> = {};
  for (const s of origin.spec.sensors) {
    calibration[s.id] = JSON.stringify({
      kind: s.kind,
      rateHz: s.rateHz,
      // yaw in radians (as the code uses it) and yawDeg (as pipeline specs write it)
      mount: { ...s.mount, yawDeg: (s.mount.yaw * 180) / Math.PI },
      fovDeg: s.fovDeg,
      rangeM: s.rangeM,
    });
  }
  return {
    [META.drive]: {
      formatVersion: DRIVE_FORMAT_VERSION,
      softwareVersion: softwareVersion(),
      producer: origin.producer,
      startNs: origin.startNs.toString(),
      clock: origin.clock,
      wallClockStart: new Date().toISOString(),
      node: process.version,
    },
    [META.pipeline]: { spec: JSON.stringify(pipelineDocument(origin.spec)), origin: origin.spec.origin },
    [META.calibration]: calibration,
    ...origin.extra,
  };
}

/**
 * Drives recorded by earlier releases carry fields since moved: `fusion.triggers` (now the
 * trigger-cycle baseline's `scheduler.triggerCycles.triggers`) and `budget` (now per stage). A
 * recorded pipeline is history, not a spec someone is editing, so it is brought forward instead
 * of refused.
 */
function upgradeRecordedPipeline(text: string): string {
  let doc: { spec?: Record<string, unknown> };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    return text; // the parser reports it
  }
  const spec = doc.spec;
  if (!spec || typeof spec !== 'object') return text;
  const fusion = spec.fusion as Record<string, unknown> | undefined;
  if (fusion && 'triggers' in fusion) {
    const triggers = fusion.triggers;
    delete fusion.triggers;
    const scheduler = (spec.scheduler ??= {}) as Record<string, unknown>;
    const cycles = (scheduler.triggerCycles ??= {}) as Record<string, unknown>;
    cycles.triggers ??= triggers;
  }
  delete spec.budget;
  return JSON.stringify(doc);
}

/**
 * The pipeline a drive was made with, validated like a spec file (errors name the drive and the
 * path in the recorded document). Throws when the drive has no pipeline record. With `overlay`
 * (a partial Pipeline document, e.g. a candidate's stage parameters) laid over the recorded one.
 */
export function pipelineFromDrive(
  meta: DriveMetadata,
  drivePath: string,
  overlay?: { doc: unknown; file: string },
): PipelineSpec {
  const text = meta[META.pipeline]?.spec;
  if (text === undefined) {
    throw new Error(`drive ${drivePath}: no '${META.pipeline}' metadata record; pass --pipeline FILE`);
  }
  const recorded = upgradeRecordedPipeline(text);
  const where = `${drivePath} (metadata ${META.pipeline})`;
  let base: unknown;
  try {
    base = overlay ? JSON.parse(recorded) : undefined;
  } catch {
    base = undefined; // not JSON: parsing the recorded text below says where it breaks
  }
  const spec =
    overlay && base !== undefined
      ? parsePipelineSpec(JSON.stringify(overlayDocument(base, overlay.doc)), `${overlay.file} over ${where}`)
      : parsePipelineSpec(recorded, where);
  // The recorded calibration is exact (the document keeps yaw in degrees).
  for (const s of spec.sensors) {
    const cal = meta[META.calibration]?.[s.id];
    if (!cal) continue;
    try {
      const m = (JSON.parse(cal) as { mount?: { x: number; y: number; z: number; yaw: number } }).mount;
      if (m && [m.x, m.y, m.z, m.yaw].every(Number.isFinite))
        s.mount = { x: m.x, y: m.y, z: m.z, yaw: m.yaw };
    } catch {
      // keep the document's mount
    }
  }
  return spec;
}
