/**
 * `replay-batch --candidate FILE`: a whole Pipeline spec (it names its own sensors) replaces the
 * primary on every drive; a partial one (no `spec.sensors`, e.g. only `planning.timeGapS` or a
 * stage's budget) is laid over each drive's primary pipeline, so one candidate file serves drives
 * recorded with different rigs.
 */
import { createHash } from 'node:crypto';
import { FileValidationError, parseYamlDocuments, readTextFile } from '../schema/yaml-file.js';
import { pipelineFromDrive } from '../io/drive-metadata.js';
import { loadPipelineSpec, parsePipelineSpec, type PipelineSpec } from '../smi/spec/pipeline-spec.js';
import { hasOwnRig, overlayDocument } from '../smi/spec/spec-overlay.js';
import { jsonValue } from './json-value.js';

/** SHA-256 of a spec's canonical JSON: two runs with one digest ran the same pipeline. */
export function specDigest(spec: PipelineSpec): string {
  return createHash('sha256').update(JSON.stringify(spec, jsonValue)).digest('hex');
}

export interface CandidateFile {
  file: string;
  /** The Pipeline document as written. */
  doc: unknown;
  whole: boolean;
}

/** The first Pipeline document of a YAML file, as plain data; throws naming the file when there is none. */
export function pipelineDocument(file: string): unknown {
  const read = readTextFile(file);
  if (read.text === undefined) throw new FileValidationError(read.issues);
  // The spec loader's own YAML reading: positions, duplicate keys and the alias cap.
  const { docs, issues } = parseYamlDocuments(read.text, file);
  if (issues.length > 0) throw new FileValidationError(issues);
  const doc = docs.find((d) => (d.value as { kind?: unknown } | null)?.kind === 'Pipeline');
  if (!doc) throw new Error(`${file}: no 'kind: Pipeline' document`);
  return doc.value;
}

/** Reads a candidate; a whole spec is validated here, an overlay on each drive. */
export function readCandidate(file: string): CandidateFile {
  const doc = pipelineDocument(file);
  const whole = hasOwnRig(doc);
  if (whole) loadPipelineSpec(file);
  return { file, doc, whole };
}

/** What tells candidates apart: a whole spec's digest, or an overlay document's. */
export function candidateDigest(c: CandidateFile): string {
  return c.whole
    ? specDigest(loadPipelineSpec(c.file))
    : createHash('sha256').update(JSON.stringify(c.doc)).digest('hex');
}

/** The candidate's pipeline for one drive whose primary is `primaryFile` or the drive's own. */
export function candidateSpec(
  c: CandidateFile,
  meta: Record<string, Record<string, string>>,
  drivePath: string,
  primaryFile?: string,
): PipelineSpec {
  if (c.whole) return loadPipelineSpec(c.file);
  if (primaryFile === undefined) return pipelineFromDrive(meta, drivePath, c);
  return parsePipelineSpec(
    JSON.stringify(overlayDocument(pipelineDocument(primaryFile), c.doc)),
    `${c.file} over ${primaryFile}`,
  );
}
