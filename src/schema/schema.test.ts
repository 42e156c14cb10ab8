import { describe, expect, it } from 'vitest';
import { arr, int, num, obj, opt, req, str, validate } from './schema.js';
import { parseYamlDocuments, validateDocument, formatIssue } from './yaml-file.js';

const schema = obj({
  name: req(str({ pattern: /^[a-z]+$/, patternDoc: 'lower-case letters' })),
  rate: opt(num({ min: 0, exclusiveMin: true }), 10),
  items: opt(arr(obj({ n: req(int({ min: 1, max: 5 })), mode: opt(str({ enum: ['a', 'b'] })) }))),
});

describe('schema validate', () => {
  it('fills defaults and accepts a good value', () => {
    const v: Record<string, unknown> = { name: 'abc' };
    expect(validate(v, schema)).toEqual([]);
    expect(v.rate).toBe(10);
  });

  it('reports every issue with its path and what is allowed', () => {
    const issues = validate({ name: 'A1', rate: 0, extra: 1, items: [{ n: 9, mode: 'c' }, {}] }, schema);
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]));
    expect(byPath.name).toMatch(/lower-case letters/);
    expect(byPath.rate).toMatch(/> 0/);
    expect(byPath.extra).toMatch(/unknown field; allowed fields here: name, rate, items/);
    expect(byPath['items[0].n']).toMatch(/9 is not allowed; expected an integer >= 1 and <= 5/);
    expect(byPath['items[0].mode']).toMatch(/one of a, b/);
    expect(byPath['items[1].n']).toMatch(/missing/);
  });
});

describe('yaml file issues', () => {
  it('maps a path to its line', () => {
    const text = 'name: abc\nitems:\n  - n: 2\n  - n: 7\n';
    const { docs } = parseYamlDocuments(text, 'f.yaml');
    const issues = validateDocument(docs[0]!, schema, 'f.yaml');
    expect(issues).toHaveLength(1);
    expect(formatIssue(issues[0]!)).toBe(
      'f.yaml:4: items[1].n: 7 is not allowed; expected an integer >= 1 and <= 5',
    );
  });

  it('turns syntax errors into issues with a line', () => {
    const { issues } = parseYamlDocuments('a: [1,\nb: 2\n', 'bad.yaml');
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]!.line).toBeGreaterThan(0);
  });

  it('refuses duplicate keys', () => {
    const { issues } = parseYamlDocuments('a: 1\na: 2\n', 'dup.yaml');
    expect(issues[0]!.message).toMatch(/unique/i);
  });
});
