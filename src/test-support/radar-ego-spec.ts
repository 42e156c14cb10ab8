/** A pipeline of one front radar and odometry fed by one ZeroMQ endpoint, for tests. */
import { parsePipelineSpec, type PipelineSpec } from '../smi/spec/pipeline-spec.js';

export function radarEgoSpec(name: string, endpoint: string): PipelineSpec {
  return parsePipelineSpec(
    `apiVersion: smi-fusion.dev/v1alpha1
kind: Pipeline
metadata: { name: ${name} }
spec:
  sources: [{ type: zmq, endpoints: ['${endpoint}'] }]
  sensors:
    - { id: radar_front, kind: radar, rateHz: 20, mount: { x: 3.7, z: 0.5 }, fovDeg: 20, rangeM: 200 }
    - { id: ego, kind: ego, rateHz: 100 }
  outputs: { publish: 'tcp://127.0.0.1:*', metrics: { enabled: false } }
`,
    `${name}.yaml`,
  );
}
