/**
 * The SMI controller: it watches the service's spec files (files or directories; multi-document
 * YAML), and takes specs sent with `smi-fusion apply -f FILE`. On a change it validates the whole
 * set, computes the diff against the running generation and applies only what changed, live
 * (SpecDiff); a change that needs a restart, or an invalid one, is refused with its reason,
 * logged, and the running generation stays. It keeps a Kubernetes-style status: generation,
 * observedGeneration, conditions and per-file results, and per generation when its change was
 * seen, applied and when the first frame ran under it (the propagation delay).
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { FileValidationError, type FileIssue } from '../../schema/yaml-file.js';
import type { Logger } from '../../telemetry/logger.js';
import { parseSpecSet, specFilesOf, type PipelineSpec, type SpecText } from '../spec/pipeline-spec.js';
import { readTextFile } from '../../schema/yaml-file.js';
import { diffSpecs, type SpecDiff } from './spec-diff.js';

/** What the controller reconciles: the running pipeline. */
export interface ReconcileTarget {
  /**
   * Applies `next` (it differs from the running spec only in live fields) as `generation`;
   * resolves once the stage threads took it, or with why they refused.
   */
  apply(
    next: PipelineSpec,
    generation: number,
  ): Promise<{ ok: true; appliedAtMs: number } | { ok: false; message: string }>;
}

export interface Condition {
  type: 'Ready' | 'Degraded';
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

/** One attempt to reconcile a change. */
export interface ApplyRecord {
  /** The generation it became (undefined when refused). */
  generation: number | undefined;
  result: 'Applied' | 'Unchanged' | 'Invalid' | 'RestartRequired' | 'Failed';
  /** `watch` (a file changed) or `apply` (smi-fusion apply -f FILE). */
  trigger: 'watch' | 'apply';
  files: string[];
  message: string;
  changes: string[];
  /** Wall-clock ms: the change was seen (first file event, or the apply request), validated, applied by the threads, and the first frame under it ran. */
  seenAtMs: number;
  validatedAtMs: number;
  appliedAtMs?: number;
  firstFrameAtMs?: number;
  /** firstFrameAtMs - seenAtMs: file saved → first frame handled under the new generation. */
  propagationMs?: number;
}

export interface ControllerStatus {
  generation: number;
  observedGeneration: number;
  conditions: Condition[];
  /** Spec files in the set, each with the result of the last attempt that read it. */
  specs: {
    file: string;
    source: 'watch' | 'apply';
    result: ApplyRecord['result'] | 'Pending';
    message: string;
  }[];
  applies: ApplyRecord[];
}

export interface ControllerOptions {
  /** Files or directories to watch; empty = nothing is watched (apply only). */
  paths: readonly string[];
  /** Brings a freshly loaded spec to what the running one was started with (the run flags). */
  prepare?: (spec: PipelineSpec) => void;
  /** File events within this are one change, ms (an editor's save is several). Default 5. */
  debounceMs?: number;
  /** Records kept in status. Default 32. */
  history?: number;
}

const wallMs = (): number => performance.timeOrigin + performance.now();
const iso = (ms: number): string => new Date(ms).toISOString();

export class SpecController {
  private running: PipelineSpec;
  private generation = 1;
  private observed = 1;
  private readonly watchers: FSWatcher[] = [];
  /** Texts sent by apply, by file name; they join (or replace) the watched files. */
  private readonly applied = new Map<string, string>();
  private readonly records: ApplyRecord[] = [];
  private readonly fileResults = new Map<
    string,
    { result: ApplyRecord['result'] | 'Pending'; message: string }
  >();
  private readonly conditions = new Map<Condition['type'], Condition>();
  private timer: NodeJS.Timeout | undefined;
  private firstEventMs: number | undefined;
  /** Reconciles run one at a time, in order. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly byGeneration = new Map<number, ApplyRecord>();
  private closed = false;

  constructor(
    initial: PipelineSpec,
    private readonly target: ReconcileTarget,
    private readonly log: Logger,
    private readonly options: ControllerOptions,
  ) {
    this.running = initial;
    this.setCondition('Ready', 'True', 'Running', `generation 1 from ${initial.origin}`);
    this.setCondition('Degraded', 'False', 'AsSpecified', 'running as specified');
    for (const f of this.files().files)
      this.fileResults.set(f, { result: 'Applied', message: 'generation 1' });
  }

  /** The spec the pipeline runs now. */
  get spec(): PipelineSpec {
    return this.running;
  }

  /** Starts watching the spec files (their directories: an atomic rename replaces the file). */
  start(): void {
    const dirs = new Map<string, Set<string> | 'all'>();
    for (const p of this.options.paths) {
      const { files } = specFilesOf([p]);
      const isDir = files.length !== 1 || resolve(files[0]!) !== resolve(p);
      if (isDir) dirs.set(resolve(p), 'all');
      else {
        const d = dirname(resolve(p));
        const cur = dirs.get(d);
        if (cur !== 'all') dirs.set(d, new Set([...(cur ?? []), basename(p)]));
      }
    }
    for (const [dir, names] of dirs) {
      const w = watch(dir, { persistent: false }, (_event, name) => {
        const n = name?.toString();
        if (names !== 'all' && n !== undefined && !names.has(n)) return;
        if (names === 'all' && n !== undefined && !/\.ya?ml$/.test(n)) return;
        this.changed();
      });
      w.on('error', (err) => this.log.warn({ err, dir }, 'spec watch failed; apply -f still works'));
      this.watchers.push(w);
    }
  }

  /** Called by the thread that reports generations: the first frame under `generation` ran. */
  noteFirstFrame(generation: number, firstFrameAtMs: number): void {
    const r = this.byGeneration.get(generation);
    if (!r || r.firstFrameAtMs !== undefined) return;
    r.firstFrameAtMs = firstFrameAtMs;
    r.propagationMs = Math.round((firstFrameAtMs - r.seenAtMs) * 1000) / 1000;
    this.log.info(
      {
        generation,
        propagationMs: r.propagationMs,
        seenAt: iso(r.seenAtMs),
        firstFrameAt: iso(firstFrameAtMs),
      },
      'first frame under the new generation',
    );
  }

  /** A file event: reconcile once the burst is over. */
  private changed(): void {
    if (this.closed) return;
    this.firstEventMs ??= wallMs();
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const seen = this.firstEventMs!;
      this.firstEventMs = undefined;
      void this.enqueue(() => this.reconcile('watch', seen));
    }, this.options.debounceMs ?? 5);
  }

  /** `smi-fusion apply -f FILE`: adds (or replaces) `file` in the set and reconciles. */
  apply(file: string, text: string): Promise<ApplyRecord> {
    const seen = wallMs();
    return this.enqueue(() => this.reconcile('apply', seen, { file, text }));
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => {});
    return next;
  }

  private files(): { files: string[]; issues: FileIssue[] } {
    const r = specFilesOf(this.options.paths);
    return { files: r.files, issues: r.issues };
  }

  /** Reads the set (watched files, then applied texts), validates, diffs and applies. */
  private async reconcile(
    trigger: ApplyRecord['trigger'],
    seenAtMs: number,
    sent?: { file: string; text: string },
  ): Promise<ApplyRecord> {
    const record: ApplyRecord = {
      generation: undefined,
      result: 'Invalid',
      trigger,
      files: [],
      message: '',
      changes: [],
      seenAtMs,
      validatedAtMs: 0,
    };
    const texts: SpecText[] = [];
    const { files, issues } = this.files();
    const candidate = new Map(this.applied);
    if (sent) candidate.set(sent.file, sent.text);
    for (const file of files) {
      const r = readTextFile(file);
      issues.push(...r.issues);
      const override = candidate.get(file);
      if (override !== undefined) continue;
      if (r.text !== undefined) texts.push({ text: r.text, file });
    }
    for (const [file, text] of candidate) texts.push({ text, file });
    record.files = texts.map((t) => t.file);
    let next: PipelineSpec | undefined;
    try {
      if (issues.length > 0) throw new FileValidationError(issues);
      next = parseSpecSet(texts);
      this.options.prepare?.(next);
    } catch (err) {
      record.message =
        err instanceof FileValidationError ? err.message : String((err as Error)?.message ?? err);
    }
    record.validatedAtMs = wallMs();
    if (!next) return this.refuse(record, 'Invalid', 'InvalidSpec');
    const diff: SpecDiff = diffSpecs(this.running, next);
    record.changes = [...diff.live, ...diff.restart];
    if (diff.restart.length > 0) {
      record.message = `needs a restart (the running generation ${this.observed} stays): ${diff.restart.join('; ')}`;
      return this.refuse(record, 'RestartRequired', 'RestartRequired');
    }
    if (sent) this.applied.set(sent.file, sent.text);
    if (diff.live.length === 0) {
      record.result = 'Unchanged';
      record.message = `no change from generation ${this.observed}`;
      this.markFiles(record);
      return this.keep(record);
    }
    const generation = ++this.generation;
    record.generation = generation;
    this.byGeneration.set(generation, record);
    const outcome = await this.target.apply(next, generation);
    if (!outcome.ok) {
      this.generation--;
      this.byGeneration.delete(generation);
      record.generation = undefined;
      record.message = `refused by the pipeline: ${outcome.message}`;
      if (sent) this.applied.delete(sent.file);
      return this.refuse(record, 'Failed', 'ApplyFailed');
    }
    record.appliedAtMs = outcome.appliedAtMs;
    record.result = 'Applied';
    record.message = `generation ${generation}: ${diff.live.join('; ')}`;
    this.running = next;
    this.observed = generation;
    this.setCondition('Ready', 'True', 'Running', `generation ${generation}`);
    this.setCondition('Degraded', 'False', 'AsSpecified', 'running as specified');
    this.markFiles(record);
    this.log.info({ generation, changes: diff.live, trigger }, 'spec applied');
    return this.keep(record);
  }

  private refuse(record: ApplyRecord, result: ApplyRecord['result'], reason: string): ApplyRecord {
    record.result = result;
    this.setCondition('Degraded', 'True', reason, record.message.split('\n').slice(0, 5).join('; '));
    this.markFiles(record);
    this.log.warn(
      { result, trigger: record.trigger, reason: record.message },
      'spec change refused; the running generation stays',
    );
    return this.keep(record);
  }

  private markFiles(record: ApplyRecord): void {
    for (const f of record.files)
      this.fileResults.set(f, { result: record.result, message: record.message.split('\n')[0] ?? '' });
  }

  private keep(record: ApplyRecord): ApplyRecord {
    this.records.push(record);
    const max = this.options.history ?? 32;
    if (this.records.length > max) {
      const old = this.records.splice(0, this.records.length - max);
      for (const r of old) if (r.generation !== undefined) this.byGeneration.delete(r.generation);
    }
    return record;
  }

  private setCondition(
    type: Condition['type'],
    status: Condition['status'],
    reason: string,
    message: string,
  ): void {
    const cur = this.conditions.get(type);
    const changed = !cur || cur.status !== status;
    this.conditions.set(type, {
      type,
      status,
      reason,
      message,
      lastTransitionTime: changed ? new Date().toISOString() : cur.lastTransitionTime,
    });
  }

  status(): ControllerStatus {
    const applied = new Set(this.applied.keys());
    return {
      generation: this.generation,
      observedGeneration: this.observed,
      conditions: [...this.conditions.values()].map((c) => ({ ...c })),
      specs: [...this.fileResults].map(([file, r]) => ({
        file,
        source: applied.has(file) ? 'apply' : 'watch',
        ...r,
      })),
      applies: this.records.map((r) => ({ ...r, changes: [...r.changes], files: [...r.files] })),
    };
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
  }
}
