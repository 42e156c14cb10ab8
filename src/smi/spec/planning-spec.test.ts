import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FileValidationError } from '../../schema/yaml-file.js';
import {
  DEFAULT_PLANNING,
  PLANNING_PARAMS,
  defaultPipelineSpec,
  parsePipelineSpec,
} from './pipeline-spec.js';

const header = 'apiVersion: smi-fusion.dev/v1alpha1\nkind: Pipeline\nmetadata:\n  name: t\n';

function issuesOf(text: string): string {
  try {
    parsePipelineSpec(text, 'p.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(FileValidationError);
    return (err as Error).message;
  }
  throw new Error('expected a validation error');
}

describe('spec.planning', () => {
  it('defaults every planner parameter and takes any of them from the spec', () => {
    expect(defaultPipelineSpec().planning).toEqual(DEFAULT_PLANNING);
    expect(Object.keys(DEFAULT_PLANNING)).toEqual(Object.keys(PLANNING_PARAMS));
    const spec = parsePipelineSpec(
      `${header}spec:\n  planning:\n    accEnabled: false\n    cruiseSpeedMps: 22\n    timeGapS: 2.2\n    aebHoldS: 0.8\n`,
      'p.yaml',
    );
    expect(spec.planning).toEqual({
      ...DEFAULT_PLANNING,
      accEnabled: false,
      cruiseSpeedMps: 22,
      timeGapS: 2.2,
      aebHoldS: 0.8,
    });
  });

  it('refuses an unknown parameter, a value out of range and parameters that contradict each other', () => {
    expect(issuesOf(`${header}spec:\n  planning:\n    timeGap: 2\n`)).toMatch(
      /p\.yaml:\d+: spec\.planning\.timeGap: unknown field/,
    );
    expect(issuesOf(`${header}spec:\n  planning:\n    timeGapS: 0.2\n`)).toMatch(
      /spec\.planning\.timeGapS: .*0\.2.*0\.8/,
    );
    expect(issuesOf(`${header}spec:\n  planning:\n    accEnabled: maybe\n`)).toMatch(
      /spec\.planning\.accEnabled/,
    );
    expect(issuesOf(`${header}spec:\n  planning:\n    ttcPartialS: 3\n`)).toContain(
      'need ttcFullS (0.9) < ttcPartialS (3) < ttcWarnS (2.6)',
    );
    expect(issuesOf(`${header}spec:\n  planning:\n    partialBrakeAccel: -10\n`)).toContain(
      'full braking (-9) must be at least as hard as partial braking (-10)',
    );
  });

  it('is documented in README, every parameter with its default', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    for (const [name, p] of Object.entries(PLANNING_PARAMS)) {
      expect(readme, name).toMatch(
        new RegExp(`\\| \`${name}\` +\\| ${String(p.default).replace('.', '\\.')} `),
      );
    }
  });
});
