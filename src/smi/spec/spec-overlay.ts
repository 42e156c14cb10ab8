/**
 * A partial Pipeline document laid over a whole one, as a candidate that changes a few stage
 * parameters is laid over each drive's own pipeline: mappings merge key by key, lists of named
 * mappings (stages) merge item by item by `name` (new names are appended), and anything else the
 * overlay gives replaces what the base has.
 */

type Doc = Record<string, unknown>;

const isMapping = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNamedList = (v: unknown): v is Doc[] =>
  Array.isArray(v) && v.every((x) => isMapping(x) && typeof x.name === 'string');

/** `overlay` laid over `base` (neither is modified). */
export function overlayDocument(base: unknown, overlay: unknown): unknown {
  if (isMapping(base) && isMapping(overlay)) {
    const out: Doc = { ...base };
    for (const [k, v] of Object.entries(overlay)) out[k] = k in base ? overlayDocument(base[k], v) : v;
    return out;
  }
  if (isNamedList(base) && isNamedList(overlay)) {
    const out = base.map((b) => {
      const o = overlay.find((x) => x.name === b.name);
      return o ? overlayDocument(b, o) : b;
    });
    for (const o of overlay) if (!base.some((b) => b.name === o.name)) out.push(o);
    return out;
  }
  return overlay;
}

/** Whether a Pipeline document names its own sensors (a whole pipeline, not an overlay). */
export function hasOwnRig(doc: unknown): boolean {
  return isMapping(doc) && isMapping(doc.spec) && 'sensors' in doc.spec;
}
