import { readFileSync } from 'node:fs';

/** smi-fusion's version (package.json): what tells reports from different builds apart. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
