/**
 * A declarative flag parser for the CLI. It exists (instead of util.parseArgs) so that every
 * error names the flag, the value given and what is allowed, and so --help is generated from the
 * same table that validates.
 */
export interface FlagSpec {
  name: string;
  type: 'string' | 'int' | 'number' | 'boolean' | 'enum';
  doc: string;
  /** Placeholder in help, e.g. FILE. */
  valueName?: string;
  values?: readonly string[];
  min?: number;
  max?: number;
  /**
   * A second value that follows the first (e.g. `--export-tracks kitti DIR`): its placeholder in
   * help; the parsed value is stored under `<name>.then`.
   */
  then?: string;
  /** A one-letter form, e.g. `f` for `-f FILE`. */
  short?: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** e.g. `smi-fusion validate FILE...` */
  usage: string;
  flags: readonly FlagSpec[];
  positionals?: { name: string; min: number; max: number; doc: string };
  /** Extra help paragraphs. */
  notes?: string;
  /** Exit code for a flag the parser refuses (default 2). */
  usageExit?: number;
}

export type FlagValues = Record<string, string | number | boolean | undefined>;

export type ParseResult =
  { ok: true; help: boolean; flags: FlagValues; positionals: string[] } | { ok: false; error: string };

const HELP: FlagSpec = { name: 'help', type: 'boolean', doc: 'show this help' };

function allowed(flag: FlagSpec): string {
  switch (flag.type) {
    case 'enum':
      return `one of ${flag.values!.join(', ')}`;
    case 'int':
    case 'number': {
      const kind = flag.type === 'int' ? 'an integer' : 'a number';
      if (flag.min !== undefined && flag.max !== undefined) return `${kind} from ${flag.min} to ${flag.max}`;
      if (flag.min !== undefined) return `${kind} >= ${flag.min}`;
      return kind;
    }
    case 'boolean':
      return 'no value';
    case 'string':
      return `a ${flag.valueName ?? 'value'}`;
  }
}

function convert(flag: FlagSpec, raw: string): string | number | undefined {
  switch (flag.type) {
    case 'string':
      return raw.length > 0 ? raw : undefined;
    case 'enum':
      return flag.values!.includes(raw) ? raw : undefined;
    case 'int':
    case 'number': {
      if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) return undefined;
      const n = Number(raw);
      if (flag.type === 'int' && !Number.isInteger(n)) return undefined;
      if ((flag.min !== undefined && n < flag.min) || (flag.max !== undefined && n > flag.max))
        return undefined;
      return n;
    }
    case 'boolean':
      return undefined;
  }
}

/** Parses argv (after the subcommand) against a command's flags. */
export function parseFlags(argv: readonly string[], cmd: CommandSpec): ParseResult {
  const flags: FlagValues = {};
  const positionals: string[] = [];
  const table = [...cmd.flags, HELP];
  const prefix = `smi-fusion ${cmd.name}`;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.replace(/^--?/, '').slice(0, eq < 0 ? undefined : eq - (arg.startsWith('--') ? 2 : 1));
    const long = arg.startsWith('--');
    const flag =
      name === 'h' && !long
        ? HELP
        : table.find((f) => (long ? f.name === name : f.short !== undefined && f.short === name));
    if (!flag) {
      return {
        ok: false,
        error: `${prefix}: unknown flag ${arg.slice(0, eq < 0 ? undefined : eq)}; allowed: ${table.map((f) => `--${f.name}`).join(', ')}`,
      };
    }
    if (flag.type === 'boolean') {
      if (eq >= 0) return { ok: false, error: `${prefix}: --${flag.name} takes no value` };
      flags[flag.name] = true;
      continue;
    }
    const raw = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (raw === undefined) return { ok: false, error: `${prefix}: --${flag.name} needs ${allowed(flag)}` };
    const value = convert(flag, raw);
    if (value === undefined) {
      return {
        ok: false,
        error: `${prefix}: --${flag.name}: '${raw}' is not allowed; expected ${allowed(flag)}`,
      };
    }
    flags[flag.name] = value;
    if (flag.then) {
      const second = argv[++i];
      if (second === undefined || second.length === 0) {
        return { ok: false, error: `${prefix}: --${flag.name} ${raw} needs a ${flag.then} after it` };
      }
      flags[`${flag.name}.then`] = second;
    }
  }
  if (flags.help) return { ok: true, help: true, flags, positionals };
  const p = cmd.positionals;
  const max = p?.max ?? 0;
  const min = p?.min ?? 0;
  if (positionals.length > max) {
    return {
      ok: false,
      error: `${prefix}: unexpected argument '${positionals[max]}'${p ? `; expected at most ${max} ${p.name}` : '; this command takes no arguments'}`,
    };
  }
  if (positionals.length < min)
    return { ok: false, error: `${prefix}: missing ${p!.name}; usage: ${cmd.usage}` };
  return { ok: true, help: false, flags, positionals };
}

/** Renders --help for a command from its flag table. */
export function helpText(cmd: CommandSpec): string {
  const rows = [...cmd.flags, HELP].map((f) => {
    const left = `  ${f.short ? `-${f.short}, ` : ''}--${f.name}${f.type === 'boolean' ? '' : ` ${f.valueName ?? (f.type === 'enum' ? f.values!.join('|') : 'VALUE')}`}${f.then ? ` ${f.then}` : ''}`;
    return `${left.padEnd(34)} ${f.doc}`;
  });
  const pos = cmd.positionals
    ? [`\nArguments:\n  ${cmd.positionals.name.padEnd(32)} ${cmd.positionals.doc}`]
    : [];
  return [
    `${cmd.summary}\n\nUsage: ${cmd.usage}`,
    ...pos,
    `\nFlags:\n${rows.join('\n')}`,
    cmd.notes ? `\n${cmd.notes}` : '',
  ]
    .join('\n')
    .trimEnd();
}
