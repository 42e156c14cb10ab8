/**
 * TrafficTarget rules as lookups (src/smi/spec/traffic-target.ts says what they mean): a channel
 * a write (read) rule names may be written (read) by that rule's subjects only, and a subject a
 * rule names may write (read) only the channels rules give it. Channels and subjects no rule
 * names are open. Lookups are a byte per (subject, channel): cheap enough for every message.
 */
import { subjectLabel, type TargetOp, type TargetSpec } from '../spec/traffic-target.js';

export class AccessPolicy {
  /** Subject labels (`source:<name>`, `external`, `stage:<name>`) per op, in index order. */
  private readonly subjects: Record<TargetOp, string[]>;
  /** allowed[op][subject * channels + channel] */
  private readonly allowed: Record<TargetOp, Uint8Array>;
  /** Whether any rule names an op at all (no rule: nothing to check). */
  readonly restricts: Record<TargetOp, boolean>;

  constructor(
    targets: readonly TargetSpec[],
    readonly channels: readonly string[],
    subjects: { sources: readonly string[]; stages: readonly string[] },
  ) {
    this.subjects = {
      write: [...subjects.sources.map((s) => `source:${s}`), 'external'],
      read: subjects.stages.map((s) => `stage:${s}`),
    };
    this.allowed = { write: this.table(targets, 'write'), read: this.table(targets, 'read') };
    this.restricts = {
      write: targets.some((t) => t.op === 'write'),
      read: targets.some((t) => t.op === 'read'),
    };
  }

  private table(targets: readonly TargetSpec[], op: TargetOp): Uint8Array {
    const subjects = this.subjects[op];
    const n = this.channels.length;
    const rules = targets.filter((t) => t.op === op);
    const listedChannel = new Uint8Array(n);
    const listedSubject = new Uint8Array(subjects.length);
    const granted = new Uint8Array(subjects.length * n);
    for (const t of rules) {
      for (const s of t.subjects) {
        const si = subjects.indexOf(subjectLabel(s));
        if (si < 0) continue;
        listedSubject[si] = 1;
        for (const c of t.channels) {
          const ci = this.channels.indexOf(c);
          if (ci < 0) continue;
          listedChannel[ci] = 1;
          granted[si * n + ci] = 1;
        }
      }
      for (const c of t.channels) {
        const ci = this.channels.indexOf(c);
        if (ci >= 0) listedChannel[ci] = 1;
      }
    }
    const out = new Uint8Array(subjects.length * n);
    for (let s = 0; s < subjects.length; s++) {
      for (let c = 0; c < n; c++) {
        out[s * n + c] = granted[s * n + c] || (!listedChannel[c] && !listedSubject[s]) ? 1 : 0;
      }
    }
    return out;
  }

  /** Index of a subject label for `op`, or -1. */
  subjectIndex(op: TargetOp, label: string): number {
    return this.subjects[op].indexOf(label);
  }

  subjectLabel(op: TargetOp, index: number): string {
    return this.subjects[op][index] ?? '?';
  }

  /** Whether subject `subject` (an index for `op`) may do `op` on channel `channel` (pool index). */
  allows(op: TargetOp, subject: number, channel: number): boolean {
    if (!this.restricts[op]) return true;
    if (subject < 0 || channel < 0 || channel >= this.channels.length) return false;
    return this.allowed[op][subject * this.channels.length + channel] === 1;
  }
}
