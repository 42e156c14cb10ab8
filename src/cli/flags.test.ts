import { describe, expect, it } from 'vitest';
import { helpText, parseFlags, type CommandSpec } from './flags.js';

const cmd: CommandSpec = {
  name: 'run',
  summary: 'Run it.',
  usage: 'smi-fusion run [flags]',
  flags: [
    { name: 'port', type: 'int', min: 0, max: 65535, doc: 'a port' },
    { name: 'level', type: 'enum', values: ['a', 'b'], doc: 'a level' },
    { name: 'file', type: 'string', valueName: 'FILE', doc: 'a file' },
    { name: 'quiet', type: 'boolean', doc: 'be quiet' },
  ],
};

describe('parseFlags', () => {
  it('parses both --flag value and --flag=value', () => {
    const r = parseFlags(['--port', '80', '--level=b', '--quiet', '--file', 'x.yaml'], cmd);
    expect(r).toEqual({
      ok: true,
      help: false,
      flags: { port: 80, level: 'b', quiet: true, file: 'x.yaml' },
      positionals: [],
    });
  });

  it('names an unknown flag and lists the allowed ones', () => {
    const r = parseFlags(['--prot', '80'], cmd);
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.error).toBe(
        'smi-fusion run: unknown flag --prot; allowed: --port, --level, --file, --quiet, --help',
      );
  });

  it.each([
    [['--port', '99999'], "--port: '99999' is not allowed; expected an integer from 0 to 65535"],
    [['--port', '1.5'], "--port: '1.5' is not allowed"],
    [['--level', 'c'], "--level: 'c' is not allowed; expected one of a, b"],
    [['--port'], '--port needs an integer from 0 to 65535'],
    [['--quiet=yes'], '--quiet takes no value'],
    [['stray'], "unexpected argument 'stray'; this command takes no arguments"],
  ])('rejects %j', (argv, message) => {
    const r = parseFlags(argv, cmd);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(message);
  });

  it('generates help from the table', () => {
    const text = helpText(cmd);
    expect(text).toContain('--port VALUE');
    expect(text).toContain('--level a|b');
    expect(text).toContain('--file FILE');
    expect(text).toContain('--help');
  });
});
