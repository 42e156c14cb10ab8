/**
 * A small declarative schema for YAML documents (pipeline specs, scenarios). It exists so every
 * error can name the path in the document and say what is allowed there, and so unknown fields
 * are refused rather than ignored (a misspelt field in a safety config must not pass silently).
 */

export type Schema = ObjectSchema | MapSchema | ArraySchema | StringSchema | NumberSchema | BooleanSchema;

export interface FieldSchema {
  schema: Schema;
  required?: boolean;
  /** Used when the field is absent; applied by `validate`. */
  default?: unknown;
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
  }
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates `value` against `schema`, filling defaults in place. Returns every issue found
 * (not just the first), so a user can fix a file in one pass.
 */
export function validate(value: unknown, schema: Schema, path = ''): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  check(value, schema, path, issues);
  return issues;
}

function check(value: unknown, schema: Schema, path: string, issues: SchemaIssue[]): void {
  const where = path || '(document)';
  const wrong = (): void => {
    issues.push({
      path: where,
      message: `${show(value)} is not allowed; expected ${describeAllowed(schema)}`,
    });
  };
  switch (schema.type) {
    case 'object': {
      if (!isPlainObject(value)) return wrong();
      for (const key of Object.keys(value)) {
        if (!Object.hasOwn(schema.fields, key)) {
          issues.push({
            path: join(path, key),
            message: `unknown field; allowed fields here: ${Object.keys(schema.fields).join(', ')}`,
          });
        }
      }
      for (const [key, field] of Object.entries(schema.fields)) {
        if (value[key] === undefined || value[key] === null) {
          if (field.required) {
            issues.push({
              path: join(path, key),
              message: `missing; expected ${describeAllowed(field.schema)}`,
            });
          } else if (field.default !== undefined) {
            value[key] = structuredClone(field.default);
          }
          continue;
        }
        check(value[key], field.schema, join(path, key), issues);
      }
      return;
    }
    case 'map': {
      if (!isPlainObject(value)) return wrong();
      for (const [key, item] of Object.entries(value)) {
        if (schema.keyPattern && !schema.keyPattern.test(key)) {
          issues.push({
            path: join(path, key),
            message: `name ${JSON.stringify(key)} is not allowed; expected ${schema.keyDoc ?? String(schema.keyPattern)}`,
          });
          continue;
        }
        check(item, schema.values, join(path, key), issues);
      }
      return;
    }
    case 'array': {
      if (!Array.isArray(value)) return wrong();
      if (
        (schema.minItems !== undefined && value.length < schema.minItems) ||
        (schema.maxItems !== undefined && value.length > schema.maxItems)
      ) {
        issues.push({
          path: where,
          message: `has ${value.length} items; expected ${describeAllowed(schema)}`,
        });
      }
      value.forEach((item, i) => check(item, schema.items, `${path}[${i}]`, issues));
      return;
    }
    case 'string': {
      if (typeof value !== 'string') return wrong();
      if (schema.enum && !schema.enum.includes(value)) return wrong();
      if (schema.pattern && !schema.pattern.test(value)) return wrong();
      return;
    }
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return wrong();
      if (schema.integer && !Number.isInteger(value)) return wrong();
      if (schema.min !== undefined && (schema.exclusiveMin ? value <= schema.min : value < schema.min))
        return wrong();
      if (schema.max !== undefined && value > schema.max) return wrong();
      return;
    }
    case 'boolean':
      if (typeof value !== 'boolean') return wrong();
      return;
  }
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
export const obj = (fields: Record<string, FieldSchema>): ObjectSchema => ({ type: 'object', fields });
export const arr = (items: Schema, extra: Omit<ArraySchema, 'type' | 'items'> = {}): ArraySchema => ({
  type: 'array',
  items,
  ...extra,
});
export const req = (schema: Schema): FieldSchema => ({ schema, required: true });
export const opt = (schema: Schema, dflt?: unknown): FieldSchema =>
  dflt === undefined ? { schema } : { schema, default: dflt };
