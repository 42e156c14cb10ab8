/**
 * The service's readiness signal for drivers: once every source can receive (a ZeroMQ SUB socket
 * has connected to each endpoint it connects to; one that binds, the simulator and replay are
 * ready when started), the service logs `smi-fusion ready` once and sets `smi_ready` to 1.
 * Messages a driver sends before its PUB socket has the service's subscription are dropped by
 * ZeroMQ and counted nowhere: README, "Readiness", says how a driver waits for it.
 */
import type { ServiceSource } from '../sensors/source.js';
import type { Logger } from '../telemetry/logger.js';
import type { PipelineMetrics } from '../telemetry/pipeline-metrics.js';

export async function announceReady(
  sources: readonly ServiceSource[],
  metrics: PipelineMetrics,
  log: Logger,
  endpoints: readonly string[],
): Promise<void> {
  const started = performance.now();
  metrics.ready.set(0);
  await Promise.all(sources.map((s) => s.ready?.()));
  metrics.ready.set(1);
  log.info(
    { sources: sources.length, endpoints, waitedMs: Math.round(performance.now() - started) },
    'smi-fusion ready',
  );
}
