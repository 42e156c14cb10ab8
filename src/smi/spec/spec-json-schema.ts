/**
 * The JSON Schema of every spec kind (Pipeline, TrafficSplit, TrafficTarget), generated from the
 * schemas the loader validates with (ajv compiles the same JSON Schema), and shipped as
 * `pipelines/schema.json` for editors (yaml-language-server completes and checks specs with it).
 * `npm run schema` writes it; a test keeps the committed file equal to this.
 */
import { writeFileSync } from 'node:fs';
import { toJsonSchema, type JsonSchema } from '../../schema/schema.js';
import { PIPELINE_SCHEMA } from './pipeline-spec.js';
import { TRAFFIC_SPLIT_SCHEMA } from './traffic-split.js';
import { TRAFFIC_TARGET_SCHEMA } from './traffic-target.js';
import { paramsSchemaOf } from './stage-params.js';

const SCHEMA_ID = 'https://smi-fusion.dev/schemas/v1alpha1/spec.json';

/** `if kind is K then the schema of K`, for each kind; and each stage's params by stage name. */
export function specJsonSchema(): JsonSchema {
  const pipeline = toJsonSchema(PIPELINE_SCHEMA);
  // Stage params depend on the stage: complete them by the stage's name (the default stages').
  const stageItems = ((
    (pipeline.properties as Record<string, JsonSchema>).spec!.properties as Record<string, JsonSchema>
  ).stages!.items ?? {}) as JsonSchema;
  stageItems.allOf = (['tracker', 'lidar-extraction', 'planner'] as const).map((type) => ({
    if: { properties: { name: { const: type } }, required: ['name'] },
    then: { properties: { params: toJsonSchema(paramsSchemaOf(type)!) } },
  }));
  const kinds: [string, JsonSchema][] = [
    ['Pipeline', pipeline],
    ['TrafficSplit', toJsonSchema(TRAFFIC_SPLIT_SCHEMA)],
    ['TrafficTarget', toJsonSchema(TRAFFIC_TARGET_SCHEMA)],
  ];
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: SCHEMA_ID,
    title: 'smi-fusion spec (Pipeline, TrafficSplit, TrafficTarget)',
    type: 'object',
    required: ['apiVersion', 'kind'],
    properties: { kind: { enum: kinds.map(([k]) => k) } },
    allOf: kinds.map(([kind, schema]) => ({
      if: { properties: { kind: { const: kind } }, required: ['kind'] },
      then: schema,
    })),
  };
}

/** The schema as pipelines/schema.json holds it. */
export function specJsonSchemaText(): string {
  return `${JSON.stringify(specJsonSchema(), null, 2)}\n`;
}

export function writeSpecJsonSchema(file: string): void {
  writeFileSync(file, specJsonSchemaText());
}
