import { readFileSync } from 'node:fs';
import { LineCounter, parseAllDocuments, isMap, isSeq, isScalar, type Document, type Node } from 'yaml';
import { validate, type Schema, type SchemaIssue } from './schema.js';

/** A problem in a YAML file: the file, the line when known, the path in the document, and what is allowed. */
export interface FileIssue extends SchemaIssue {
  file: string;
  /** 1-based line of the offending node, when it could be located. */
  line?: number;
  /** 0-based index of the document in a multi-document file. */
  doc: number;
}

export function formatIssue(issue: FileIssue): string {
  const where = issue.line !== undefined ? `${issue.file}:${issue.line}` : issue.file;
  const doc = issue.doc > 0 ? ` (document ${issue.doc + 1})` : '';
  return `${where}${doc}: ${issue.path}: ${issue.message}`;
}

/** An error carrying every issue found in a file; `message` lists them one per line. */
export class FileValidationError extends Error {
  constructor(readonly issues: readonly FileIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'FileValidationError';
  }
}

export interface ParsedDocument {
  index: number;
  value: unknown;
  /** Finds the 1-based line of a dotted path such as `spec.sensors[2].rateHz`. */
  lineOf(path: string): number | undefined;
}

const MAX_ALIAS_COUNT = 100;

/** Parses every YAML document in `text`; syntax errors become issues, never exceptions. */
export function parseYamlDocuments(
  text: string,
  file: string,
): { docs: ParsedDocument[]; issues: FileIssue[] } {
  const lineCounter = new LineCounter();
  const issues: FileIssue[] = [];
  const docs: ParsedDocument[] = [];
  let parsed: Document.Parsed[];
  try {
    parsed = parseAllDocuments(text, { lineCounter, uniqueKeys: true }) as Document.Parsed[];
  } catch (err) {
    return { docs, issues: [{ file, doc: 0, path: '(document)', message: `not YAML: ${String(err)}` }] };
  }
  if (!Array.isArray(parsed)) parsed = [parsed];
  parsed.forEach((doc, index) => {
    for (const e of doc.errors) {
      const pos = e.linePos?.[0];
      issues.push({
        file,
        doc: index,
        line: pos?.line,
        path: '(document)',
        message: e.message.split('\n')[0] ?? '',
      });
    }
    if (doc.errors.length > 0) return;
    let value: unknown;
    try {
      // Aliases are expanded at most this many times: a "billion laughs" document is refused.
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      issues.push({
        file,
        doc: index,
        line: doc.contents?.range ? lineCounter.linePos(doc.contents.range[0]).line : undefined,
        path: '(document)',
        message: `${err instanceof Error ? err.message : String(err)} (aliases are expanded at most ${MAX_ALIAS_COUNT} times)`,
      });
      return;
    }
    docs.push({
      index,
      value,
      lineOf(path: string): number | undefined {
        const node = nodeAt(doc.contents, path);
        const offset = node?.range?.[0];
        return offset === undefined ? undefined : lineCounter.linePos(offset).line;
      },
    });
  });
  return { docs, issues };
}

/** Walks a YAML node tree along a dotted path; returns the deepest node found. */
function nodeAt(root: Node | null, path: string): Node | undefined {
  let node: Node | undefined = root ?? undefined;
  const parts = path.match(/[^.[\]]+/g) ?? [];
  for (const part of parts) {
    if (node && isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === part);
      if (!pair) return node;
      node = (pair.value as Node | null) ?? (pair.key as Node);
    } else if (node && isSeq(node) && /^\d+$/.test(part)) {
      const item = node.items[Number(part)] as Node | undefined;
      if (!item) return node;
      node = item;
    } else {
      return node;
    }
  }
  return node;
}

/** Validates one parsed document against a schema and maps issues to file lines. */
export function validateDocument(doc: ParsedDocument, schema: Schema, file: string): FileIssue[] {
  return validate(doc.value, schema).map((i) => ({ ...i, file, doc: doc.index, line: doc.lineOf(i.path) }));
}

/** Reads a file; an unreadable file is an issue naming the file and the reason. */
export function readTextFile(file: string): { text?: string; issues: FileIssue[] } {
  try {
    return { text: readFileSync(file, 'utf8'), issues: [] };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    return { issues: [{ file, doc: 0, path: '(file)', message: `cannot read (${code})` }] };
  }
}
