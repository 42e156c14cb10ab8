/**
 * Fuzz test of the spec loader's public entry point (YAML text → validated spec, or
 * FileValidationError): shipped pipelines with random edits, YAML-looking noise, and alias bombs,
 * seeded, in CI-sized slices. Every input either yields a spec whose numbers are all finite or
 * is refused with issues naming the file and a path; nothing else is ever thrown.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePipelineSpec } from './pipeline-spec.js';
import { FileValidationError } from '../../schema/yaml-file.js';
import { Fuzz, aliasBomb, randomYaml } from '../../test-support/wire-fuzz.js';

const PIPELINES = new URL('../../../pipelines/', import.meta.url).pathname;
const SHIPPED = readdirSync(PIPELINES)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => readFileSync(join(PIPELINES, f), 'utf8'))
  .filter((text) => /^kind: Pipeline/m.test(text));
const PER_SLICE = 1000;
const SLICES = Math.max(5, Number(process.env.SMI_FUZZ_SLICES ?? 5));

/** Paths of non-finite numbers anywhere in a value. */
function nonFinite(value: unknown, path = 'spec', out: string[] = []): string[] {
  if (typeof value === 'number' && !Number.isFinite(value)) out.push(path);
  else if (Array.isArray(value)) value.forEach((v, i) => nonFinite(v, `${path}[${i}]`, out));
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) nonFinite(v, `${path}.${k}`, out);
  }
  return out;
}

describe('spec loader fuzz (seeded)', () => {
  it('loads every shipped pipeline unmutated', () => {
    expect(SHIPPED.length).toBeGreaterThanOrEqual(2);
    for (const text of SHIPPED) expect(nonFinite(parsePipelineSpec(text, 'shipped.yaml'))).toEqual([]);
  });

  it.each(Array.from({ length: SLICES }, (_, i) => 0xf00d + i))('slice with seed %i', (seed) => {
    const f = new Fuzz(seed);
    let accepted = 0;
    let refused = 0;
    const problems: string[] = [];
    for (let n = 0; n < PER_SLICE; n++) {
      const text = f.chance(0.1) ? randomYaml(f) : f.mutateYaml(f.pick(SHIPPED));
      try {
        const spec = parsePipelineSpec(text, 'fuzz.yaml');
        accepted++;
        const bad = nonFinite(spec);
        if (bad.length > 0) problems.push(`accepted a spec with non-finite ${bad.join(', ')}:\n${text}`);
      } catch (err) {
        if (!(err instanceof FileValidationError)) {
          problems.push(`threw ${(err as Error).stack}\n--- input ---\n${text}`);
          continue;
        }
        refused++;
        if (err.issues.length === 0) problems.push(`refused with no issue:\n${text}`);
        for (const issue of err.issues) {
          // (path is '' only for an empty YAML key at the top level)
          if (issue.file !== 'fuzz.yaml' || typeof issue.path !== 'string' || !issue.message) {
            problems.push(`issue without file, path or message: ${JSON.stringify(issue)}`);
          }
        }
      }
    }
    expect(problems.slice(0, 3)).toEqual([]);
    expect(accepted + refused).toBe(PER_SLICE);
    // Both sides are exercised: many mutants stay valid, most are refused.
    expect(accepted).toBeGreaterThan(PER_SLICE / 50);
    expect(refused).toBeGreaterThan(PER_SLICE / 2);
  });

  it('refuses an alias bomb without expanding it', () => {
    expect(() => parsePipelineSpec(aliasBomb(9), 'bomb.yaml')).toThrow(FileValidationError);
  });
});
