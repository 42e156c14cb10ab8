/**
 * `kind: TrafficSplit` (SMI-style): for one stage, an alternative version that gets a weighted
 * share of its outputs (canary) or every input mirrored to it (shadow). Both versions of a
 * stateful stage (the tracker, the planner) see every input, so the alternative is warm when
 * its share comes; the split decides whose outputs are published. A shadow's outputs are never
 * published, only compared with the primary's (src/smi/divergence).
 */
import { arr, int, obj, opt, req, str, any, type Schema } from '../../schema/schema.js';
import { stageParamIssues } from './stage-params.js';

export const SPLIT_MODES = ['canary', 'shadow'] as const;
export type SplitMode = (typeof SPLIT_MODES)[number];
/** Stages a split may name: both run on the tracker thread, where both versions are kept. */
export const SPLITTABLE_STAGE_TYPES = ['tracker', 'planner'] as const;

const versionName = str({
  pattern: /^[a-z0-9][a-z0-9.-]{0,62}$/,
  patternDoc: 'lower-case letters, digits, . and -, 1-63 characters',
});

/** Schema of a `kind: TrafficSplit` document. */
export const TRAFFIC_SPLIT_SCHEMA: Schema = obj({
  apiVersion: req(str({ enum: ['smi-fusion.dev/v1alpha1'] })),
  kind: req(str({ enum: ['TrafficSplit'] })),
  metadata: req(obj({ name: req(versionName), labels: opt({ type: 'map', values: str() }) })),
  spec: req(
    obj({
      stage: { ...req(str({ maxLength: 63 })), doc: 'the stage (by name) whose work is split' },
      mode: {
        ...req(str({ enum: SPLIT_MODES })),
        doc: 'canary: the alternative makes the outputs for its weight; shadow: it sees every input, its outputs are only compared',
      },
      backends: {
        ...req(
          arr(
            obj({
              version: req(versionName),
              weight: {
                ...opt(int({ min: 0, max: 100 })),
                doc: 'share of outputs, % (canary only; weights sum to 100)',
              },
              params: {
                ...opt({ type: 'map', values: any() }),
                doc: "the alternative's stage params over the primary's",
              },
            }),
            { minItems: 2, maxItems: 2 },
          ),
        ),
        doc: 'two versions: the primary (the stage as the Pipeline defines it) first, then the alternative',
      },
    }),
  ),
});

/** A resolved TrafficSplit. */
export interface SplitSpec {
  name: string;
  stage: string;
  /** The stage's type (tracker or planner). */
  stageType: 'tracker' | 'planner';
  mode: SplitMode;
  primary: { version: string; weight: number };
  /** The alternative version: its weight (0 in shadow mode) and its params over the primary's. */
  alternative: { version: string; weight: number; params: Record<string, unknown> };
  /** File the split came from. */
  origin: string;
}

export interface RawSplit {
  metadata: { name: string };
  spec: {
    stage: string;
    mode: SplitMode;
    backends: { version: string; weight?: number; params?: Record<string, unknown> }[];
  };
}

/**
 * Checks a TrafficSplit against the pipeline's stages and the other splits (`earlier`); each
 * issue names its path. Returns the resolved split when it has no issue.
 */
export function resolveSplit(
  raw: RawSplit,
  stages: readonly { name: string; type: string }[],
  earlier: readonly SplitSpec[],
  origin: string,
): { split?: SplitSpec; issues: { path: string; message: string }[] } {
  const issues: { path: string; message: string }[] = [];
  const { stage, mode, backends } = raw.spec;
  const target = stages.find((s) => s.name === stage);
  if (!target) {
    issues.push({
      path: 'spec.stage',
      message: `no stage '${stage}'; stages: ${stages.map((s) => s.name).join(', ')}`,
    });
  } else if (!(SPLITTABLE_STAGE_TYPES as readonly string[]).includes(target.type)) {
    issues.push({
      path: 'spec.stage',
      message: `a '${target.type}' stage cannot be split (yet); stages that can: ${SPLITTABLE_STAGE_TYPES.join(', ')}`,
    });
  }
  const same = earlier.find((s) => s.stage === stage);
  if (same) {
    issues.push({
      path: 'spec.stage',
      message: `stage '${stage}' is already split by '${same.name}' (${same.origin}); one split per stage`,
    });
  } else if (earlier.length > 0) {
    issues.push({
      path: 'metadata.name',
      message: `one TrafficSplit per pipeline in this release ('${earlier[0]!.name}' splits '${earlier[0]!.stage}')`,
    });
  }
  const [primary, alternative] = backends;
  if (primary!.params !== undefined) {
    issues.push({
      path: 'spec.backends[0].params',
      message:
        "the primary backend is the Pipeline's stage: set its params in the Pipeline (spec.stages[].params)",
    });
  }
  if (primary!.version === alternative!.version) {
    issues.push({
      path: 'spec.backends[1].version',
      message: `both backends are version '${primary!.version}'`,
    });
  }
  if (mode === 'canary') {
    backends.forEach((b, i) => {
      if (b.weight === undefined)
        issues.push({
          path: `spec.backends[${i}].weight`,
          message: 'missing; a canary needs both weights (%)',
        });
    });
    const sum = backends.reduce((n, b) => n + (b.weight ?? 0), 0);
    if (backends.every((b) => b.weight !== undefined) && sum !== 100) {
      issues.push({ path: 'spec.backends', message: `weights sum to ${sum}; they must sum to 100` });
    }
  } else {
    backends.forEach((b, i) => {
      if (b.weight !== undefined) {
        issues.push({
          path: `spec.backends[${i}].weight`,
          message: 'a shadow sees every input and publishes nothing: weights are for mode canary',
        });
      }
    });
  }
  if (target && alternative!.params !== undefined) {
    issues.push(...stageParamIssues(target.type, alternative!.params, 'spec.backends[1].params'));
  }
  if (issues.length > 0 || !target) return { issues };
  return {
    issues,
    split: {
      name: raw.metadata.name,
      stage,
      stageType: target.type as SplitSpec['stageType'],
      mode,
      primary: { version: primary!.version, weight: mode === 'canary' ? primary!.weight! : 100 },
      alternative: {
        version: alternative!.version,
        weight: mode === 'canary' ? alternative!.weight! : 0,
        params: structuredClone(alternative!.params ?? {}),
      },
      origin,
    },
  };
}
