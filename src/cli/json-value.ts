/** JSON.stringify replacer for reports: bigints as decimal strings, non-finite numbers as null. */
export function jsonValue(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  return v;
}
