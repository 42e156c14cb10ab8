/**
 * `kind: TrafficTarget` (SMI-style access policy): which producer may write which channel, and
 * which stage may read it. A channel that a rule names for an operation may be written (read) by
 * the rule's subjects only; a subject that a rule names may write (read) only the channels rules
 * give it, so a producer that claims another sensor's id is refused. Channels and subjects no
 * rule names are open (a pipeline without TrafficTargets runs as before). Enforced at ingest and
 * when the stages' pool readers are opened (src/smi/policy/access-policy.ts).
 */
import { arr, bool, obj, opt, req, str, type Schema } from '../../schema/schema.js';

export const TARGET_OPS = ['write', 'read'] as const;
export type TargetOp = (typeof TARGET_OPS)[number];

const name = str({
  pattern: /^[A-Za-z0-9_.-]{1,64}$/,
  patternDoc: 'letters, digits, _, . or -, 1-64 characters',
});

/** Schema of a `kind: TrafficTarget` document. */
export const TRAFFIC_TARGET_SCHEMA: Schema = obj({
  apiVersion: req(str({ enum: ['smi-fusion.dev/v1alpha1'] })),
  kind: req(str({ enum: ['TrafficTarget'] })),
  metadata: req(obj({ name: req(name), labels: opt({ type: 'map', values: str() }) })),
  spec: req(
    obj({
      op: {
        ...req(str({ enum: TARGET_OPS })),
        doc: 'write: producers into channels; read: stages from channels',
      },
      channels: {
        ...req(arr(name, { minItems: 1 })),
        doc: 'pool channels (sensor ids, derived channels such as lidar_top.boxes)',
      },
      subjects: {
        ...req(
          arr(
            obj({
              source: { ...opt(name), doc: 'a spec.sources entry by name (op write)' },
              external: { ...opt(bool()), doc: 'true: an external shared-memory producer (op write)' },
              stage: { ...opt(name), doc: 'a stage by name (op read)' },
            }),
            { minItems: 1 },
          ),
        ),
        doc: 'who may: exactly one of source, external, stage per entry',
      },
    }),
  ),
});

/** A subject of a rule: a named source, the external shared-memory producer, or a stage. */
export type TargetSubject = { source: string } | { external: true } | { stage: string };

export interface TargetSpec {
  name: string;
  op: TargetOp;
  channels: string[];
  subjects: TargetSubject[];
  origin: string;
}

export interface RawTarget {
  metadata: { name: string };
  spec: {
    op: TargetOp;
    channels: string[];
    subjects: { source?: string; external?: boolean; stage?: string }[];
  };
}

/** Label of a subject in metrics and logs: `source:<name>`, `external`, `stage:<name>`. */
export function subjectLabel(s: TargetSubject): string {
  if ('source' in s) return `source:${s.source}`;
  if ('stage' in s) return `stage:${s.stage}`;
  return 'external';
}

/** Checks a TrafficTarget against the pipeline's channels, sources and stages; each issue names its path. */
export function resolveTarget(
  raw: RawTarget,
  known: { channels: readonly string[]; sources: readonly string[]; stages: readonly string[] },
  origin: string,
): { target?: TargetSpec; issues: { path: string; message: string }[] } {
  const issues: { path: string; message: string }[] = [];
  const { op, channels, subjects } = raw.spec;
  channels.forEach((c, i) => {
    if (!known.channels.includes(c)) {
      issues.push({
        path: `spec.channels[${i}]`,
        message: `no channel '${c}'; channels: ${known.channels.join(', ')}`,
      });
    }
  });
  const out: TargetSubject[] = [];
  subjects.forEach((s, i) => {
    const path = `spec.subjects[${i}]`;
    const given = (['source', 'external', 'stage'] as const).filter((k) => s[k] !== undefined);
    if (given.length !== 1) {
      issues.push({
        path,
        message: `give exactly one of source, external, stage (found ${given.join(', ') || 'none'})`,
      });
      return;
    }
    if (s.stage !== undefined) {
      if (op !== 'read')
        issues.push({ path: `${path}.stage`, message: 'a stage is a subject of op read; producers write' });
      else if (!known.stages.includes(s.stage))
        issues.push({
          path: `${path}.stage`,
          message: `no stage '${s.stage}'; stages: ${known.stages.join(', ')}`,
        });
      out.push({ stage: s.stage });
    } else if (s.source !== undefined) {
      if (op !== 'write')
        issues.push({ path: `${path}.source`, message: 'a source is a subject of op write; stages read' });
      else if (!known.sources.includes(s.source))
        issues.push({
          path: `${path}.source`,
          message: `no source '${s.source}'; sources: ${known.sources.join(', ')}`,
        });
      out.push({ source: s.source });
    } else {
      if (op !== 'write')
        issues.push({ path: `${path}.external`, message: 'an external producer is a subject of op write' });
      if (s.external !== true)
        issues.push({ path: `${path}.external`, message: 'only external: true names a subject' });
      out.push({ external: true });
    }
  });
  if (issues.length > 0) return { issues };
  return { issues, target: { name: raw.metadata.name, op, channels: [...channels], subjects: out, origin } };
}
