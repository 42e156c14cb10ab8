/**
 * The drives a batch replays, from what a user names: a directory (every `*.mcap` below it), a
 * glob (`drives/2026-*` `/` `**` `/*.mcap`), or a text file listing drives (one path per line,
 * relative to the file; `#` starts a comment). Each drive gets a stable name, its path relative
 * to the list's root with `/` separators, so that machines that mount the drives at different
 * places still sort, shard and merge them alike.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { hasMcapMagic } from '../io/mcap-drive-reader.js';

export interface DriveRef {
  /** Absolute path. */
  path: string;
  /** Relative to the list's root, `/`-separated: the key reports and shards use. */
  name: string;
}

export interface DriveList {
  /** What the user named, resolved. */
  source: string;
  kind: 'directory' | 'glob' | 'list';
  root: string;
  /** Sorted by name, no duplicates. */
  drives: DriveRef[];
}

/** A bad drive list, naming what was asked and why it gives no drives. */
export class DriveListError extends Error {}

const GLOB_CHARS = /[*?[]/;

/**
 * Every file below `dir` (depth-first, sorted). Symbolic links are followed (drives are often
 * linked in from where they are stored); the depth bound stops a link cycle.
 */
function walk(dir: string, out: string[], depth = 0): void {
  if (depth > 32) return;
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      try {
        const s = statSync(p);
        isDir = s.isDirectory();
        isFile = s.isFile();
      } catch {
        isFile = true; // a dangling link is listed: its replay says it cannot be read
      }
    }
    if (isDir) walk(p, out, depth + 1);
    else if (isFile) out.push(p);
  }
}

/** A glob as a regular expression over `/`-separated relative paths: `**` any depth, `*` and `?` within a name. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` matches zero or more directories; a trailing `**` anything.
      if (glob[i + 2] === '/') {
        re += '(?:[^/]+/)*';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) throw new DriveListError(`glob '${glob}': '[' at ${i} is never closed`);
      const body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
      re += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
      i = end;
    } else re += /[.+^${}()|\\]/.test(c) ? `\\${c}` : c;
  }
  return new RegExp(`^${re}$`);
}

const toPosix = (p: string): string => p.split(sep).join('/');

function refs(root: string, paths: readonly string[]): DriveRef[] {
  const byName = new Map<string, DriveRef>();
  for (const p of paths) {
    const path = resolve(p);
    const name = toPosix(relative(root, path)) || path;
    byName.set(name, { path, name });
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Resolves a directory, glob or list file to its drives. Throws DriveListError when it names
 * nothing, or when it gives no drive at all. A listed drive that does not exist stays in the list
 * (its replay fails and says so; the batch goes on).
 */
export function resolveDrives(arg: string, cwd = process.cwd()): DriveList {
  const abs = isAbsolute(arg) ? arg : resolve(cwd, arg);
  let list: DriveList;
  if (!GLOB_CHARS.test(arg) && existsSync(abs) && statSync(abs).isDirectory()) {
    const files: string[] = [];
    walk(abs, files);
    list = {
      source: abs,
      kind: 'directory',
      root: abs,
      drives: refs(
        abs,
        files.filter((f) => f.endsWith('.mcap')),
      ),
    };
  } else if (!GLOB_CHARS.test(arg) && existsSync(abs)) {
    const root = dirname(abs);
    // One drive (by name or by its first bytes: a drive is never read whole here), else a list.
    if (abs.endsWith('.mcap') || hasMcapMagic(abs)) {
      list = { source: abs, kind: 'list', root, drives: refs(root, [abs]) };
    } else {
      const text = readFileSync(abs, 'utf8');
      if (text.includes('\0')) throw new DriveListError(`${abs}: not a text list of drives (binary content)`);
      const lines = text
        .split(/\r?\n/)
        .map((l) => l.replace(/#.*/, '').trim())
        .filter((l) => l.length > 0);
      list = {
        source: abs,
        kind: 'list',
        root,
        drives: refs(
          root,
          lines.map((l) => resolve(root, l)),
        ),
      };
    }
  } else if (GLOB_CHARS.test(arg)) {
    const parts = toPosix(abs).split('/');
    const first = parts.findIndex((p) => GLOB_CHARS.test(p));
    const root = parts.slice(0, first).join('/') || '/';
    const pattern = globToRegExp(parts.slice(first).join('/'));
    const files: string[] = [];
    if (existsSync(root) && statSync(root).isDirectory()) walk(root, files);
    list = {
      source: abs,
      kind: 'glob',
      root,
      drives: refs(
        root,
        files.filter((f) => pattern.test(toPosix(relative(root, f)))),
      ),
    };
  } else {
    throw new DriveListError(`${abs}: no such directory, drive list or glob match`);
  }
  if (list.drives.length === 0) {
    throw new DriveListError(
      `${list.source}: no drives (${list.kind === 'list' ? 'the list is empty' : 'no .mcap file matches'})`,
    );
  }
  return list;
}
