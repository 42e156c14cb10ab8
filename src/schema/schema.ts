/**
 * A small declarative schema for YAML documents (pipeline specs, scenarios). It exists so every
 * error can name the path in the document and say what is allowed there, and so unknown fields
 * are refused rather than ignored (a misspelt field in a safety config must not pass silently).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

export type Schema =
  ObjectSchema | MapSchema | ArraySchema | StringSchema | NumberSchema | BooleanSchema | AnySchema;

/** Any value: checked elsewhere (e.g. a stage's params, whose schema depends on the stage type). */
export interface AnySchema {
  type: 'any';
}

export interface FieldSchema {
  schema: Schema;
  required?: boolean;
  /** Used when the field is absent; applied by `validate`. */
  default?: unknown;
  /** What the field means (with its unit): the JSON Schema's description, shown by editors. */
  doc?: string;
}

export interface ObjectSchema {
  type: 'object';
  fields: Readonly<Record<string, FieldSchema>>;
}

/** An object whose keys are free-form names (validated by `keyPattern`) and whose values share a schema. */
export interface MapSchema {
  type: 'map';
  values: Schema;
  keyPattern?: RegExp;
  keyDoc?: string;
}

export interface ArraySchema {
  type: 'array';
  items: Schema;
  minItems?: number;
  maxItems?: number;
}

export interface StringSchema {
  type: 'string';
  enum?: readonly string[];
  pattern?: RegExp;
  /** Human description of `pattern`, used in errors. */
  patternDoc?: string;
  maxLength?: number;
}

export interface NumberSchema {
  type: 'number';
  integer?: boolean;
  min?: number;
  max?: number;
  /** When true, `min` itself is not allowed. */
  exclusiveMin?: boolean;
}

export interface BooleanSchema {
  type: 'boolean';
}

/** One problem found in a document: where, what was found, what is allowed. */
export interface SchemaIssue {
  /** Dotted path in the document, e.g. `spec.sensors[2].rateHz`. */
  path: string;
  message: string;
}

/** Describes what a schema allows, for error messages. */
export function describeAllowed(schema: Schema): string {
  switch (schema.type) {
    case 'object':
      return `an object with fields ${Object.keys(schema.fields).join(', ')}`;
    case 'map':
      return `a map of ${schema.keyDoc ?? 'names'} to ${describeAllowed(schema.values)}`;
    case 'array': {
      const bounds: string[] = [];
      if (schema.minItems !== undefined) bounds.push(`at least ${schema.minItems}`);
      if (schema.maxItems !== undefined) bounds.push(`at most ${schema.maxItems}`);
      return `a list${bounds.length ? ` of ${bounds.join(' and ')} items` : ''}`;
    }
    case 'string':
      if (schema.enum) return `one of ${schema.enum.join(', ')}`;
      if (schema.patternDoc) return `a string: ${schema.patternDoc}`;
      return 'a string';
    case 'number': {
      const kind = schema.integer ? 'an integer' : 'a number';
      const parts: string[] = [];
      if (schema.min !== undefined) parts.push(`${schema.exclusiveMin ? '>' : '>='} ${schema.min}`);
      if (schema.max !== undefined) parts.push(`<= ${schema.max}`);
      return parts.length ? `${kind} ${parts.join(' and ')}` : kind;
    }
    case 'boolean':
      return 'true or false';
    case 'any':
      return 'any value';
  }
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(cut(value));
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** Messages quote at most this much of a value (a 1 MB string must not make a 1 MB message). */
const QUOTE_CHARS = 80;
function cut(text: string): string {
  return text.length <= QUOTE_CHARS ? text : `${text.slice(0, QUOTE_CHARS)}… (${text.length} characters)`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON Schema (draft 2020-12 subset) node, as toJsonSchema writes it. */
export type JsonSchema = Record<string, unknown>;

/** The DSL node each generated JSON Schema node came from: errors describe what it allows. */
const sourceOf = new WeakMap<object, Schema>();

/**
 * The JSON Schema of a DSL schema: the form editors (yaml-language-server) and ajv read. Field
 * docs (`docs`, by field name) become `description`s.
 */
export function toJsonSchema(schema: Schema): JsonSchema {
  const out = jsonOf(schema);
  return out;
}

function jsonOf(schema: Schema): JsonSchema {
  let out: JsonSchema;
  switch (schema.type) {
    case 'object': {
      const properties: Record<string, JsonSchema> = {};
      const required: string[] = [];
      for (const [key, field] of Object.entries(schema.fields)) {
        const node = jsonOf(field.schema);
        if (field.default !== undefined) node.default = structuredClone(field.default);
        if (field.doc) node.description = field.doc;
        properties[key] = node;
        if (field.required) required.push(key);
      }
      out = { type: 'object', properties, additionalProperties: false };
      if (required.length > 0) out.required = required;
      break;
    }
    case 'map':
      out = { type: 'object', additionalProperties: jsonOf(schema.values) };
      if (schema.keyPattern) out.propertyNames = { pattern: schema.keyPattern.source };
      break;
    case 'array':
      out = { type: 'array', items: jsonOf(schema.items) };
      if (schema.minItems !== undefined) out.minItems = schema.minItems;
      if (schema.maxItems !== undefined) out.maxItems = schema.maxItems;
      break;
    case 'string':
      out = { type: 'string' };
      if (schema.enum) out.enum = [...schema.enum];
      if (schema.pattern) out.pattern = schema.pattern.source;
      if (schema.maxLength !== undefined) out.maxLength = schema.maxLength;
      break;
    case 'number':
      out = { type: schema.integer ? 'integer' : 'number' };
      if (schema.min !== undefined) out[schema.exclusiveMin ? 'exclusiveMinimum' : 'minimum'] = schema.min;
      if (schema.max !== undefined) out.maximum = schema.max;
      break;
    case 'boolean':
      out = { type: 'boolean' };
      break;
    case 'any':
      out = {};
      break;
  }
  sourceOf.set(out, schema);
  return out;
}

const ajv = new Ajv({ allErrors: true, verbose: true, useDefaults: true, strict: true });
const compiled = new WeakMap<Schema, ValidateFunction>();

function compiledOf(schema: Schema): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv.compile(toJsonSchema(schema));
    compiled.set(schema, fn);
  }
  return fn;
}

/**
 * Validates `value` against `schema` (compiled to JSON Schema and checked by ajv), filling
 * defaults in place. Returns every issue found (not just the first), so a user can fix a file in
 * one pass; each names its path and what is allowed there. A field given as null counts as
 * absent (YAML `key:` with nothing after it).
 */
export function validate(value: unknown, schema: Schema, path = ''): SchemaIssue[] {
  dropNulls(value);
  const fn = compiledOf(schema);
  if (fn(value)) return [];
  const issues: SchemaIssue[] = [];
  const seen = new Set<string>();
  for (const e of fn.errors ?? []) {
    const issue = issueOf(e, path);
    if (!issue) continue;
    const key = `${issue.path}\u0000${issue.message}`;
    // One complaint per path: a value out of range is not also reported for its type.
    if (seen.has(key) || (e.keyword !== 'additionalProperties' && issues.some((i) => i.path === issue.path)))
      continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}

function dropNulls(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) dropNulls(item);
  } else if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (v === null) delete value[k];
      else dropNulls(v);
    }
  }
}

/** The DSL description of what a JSON Schema node allows. */
function allowedBy(node: unknown): string {
  const source = typeof node === 'object' && node !== null ? sourceOf.get(node) : undefined;
  return source ? describeAllowed(source) : 'a valid value';
}

function issueOf(e: ErrorObject, base: string): SchemaIssue | undefined {
  const at = pathOf(e.instancePath, base);
  const where = at || '(document)';
  const parent = e.parentSchema as JsonSchema | undefined;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String((e.params as { additionalProperty: string }).additionalProperty);
      const allowed = Object.keys((parent?.properties as object | undefined) ?? {});
      return {
        path: join(at, cut(key)),
        message: `unknown field; allowed fields here: ${allowed.join(', ')}`,
      };
    }
    case 'required': {
      const key = String((e.params as { missingProperty: string }).missingProperty);
      const field = (parent?.properties as Record<string, unknown> | undefined)?.[key];
      return { path: join(at, key), message: `missing; expected ${allowedBy(field)}` };
    }
    case 'propertyNames': {
      const name = String((e.params as { propertyName: string }).propertyName);
      const source = parent ? sourceOf.get(parent) : undefined;
      const doc = source?.type === 'map' ? (source.keyDoc ?? String(source.keyPattern)) : 'a valid name';
      return {
        path: join(at, cut(name)),
        message: `name ${JSON.stringify(cut(name))} is not allowed; expected ${doc}`,
      };
    }
    case 'minItems':
    case 'maxItems':
      return {
        path: where,
        message: `has ${Array.isArray(e.data) ? e.data.length : '?'} items; expected ${allowedBy(parent)}`,
      };
    default:
      // The inner error of propertyNames names the key, not a value: the propertyNames one says it.
      if ((e as { propertyName?: string }).propertyName !== undefined) return undefined;
      return { path: where, message: `${show(e.data)} is not allowed; expected ${allowedBy(parent)}` };
  }
}

/** JSON pointer (`/spec/sensors/2/rateHz`) → dotted path (`spec.sensors[2].rateHz`). */
function pathOf(pointer: string, base: string): string {
  let out = base;
  if (!pointer) return out;
  for (const raw of pointer.slice(1).split('/')) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out = /^\d+$/.test(part) && out !== '' ? `${out}[${part}]` : join(out, part);
  }
  return out;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

// Shorthands that keep schema tables readable.
export const str = (extra: Omit<StringSchema, 'type'> = {}): StringSchema => ({ type: 'string', ...extra });
export const num = (extra: Omit<NumberSchema, 'type'> = {}): NumberSchema => ({ type: 'number', ...extra });
export const int = (extra: Omit<NumberSchema, 'type' | 'integer'> = {}): NumberSchema => ({
  type: 'number',
  integer: true,
  ...extra,
});
export const bool = (): BooleanSchema => ({ type: 'boolean' });
export const any = (): AnySchema => ({ type: 'any' });
export const obj = (fields: Record<string, FieldSchema>): ObjectSchema => ({ type: 'object', fields });
export const arr = (items: Schema, extra: Omit<ArraySchema, 'type' | 'items'> = {}): ArraySchema => ({
  type: 'array',
  items,
  ...extra,
});
export const req = (schema: Schema): FieldSchema => ({ schema, required: true });
export const opt = (schema: Schema, dflt?: unknown): FieldSchema =>
  dflt === undefined ? { schema } : { schema, default: dflt };
