import type { IngestOutcome } from './ingest-stage.js';

/**
 * The ingest entry point a source calls for each multipart message. `clockNs` is the time stamps
 * are checked against (default `receivedNs`); replay passes the drive's clock.
 */
export type IngestFn = (parts: Uint8Array[], receivedNs: bigint, clockNs?: bigint) => IngestOutcome;

/** A source of sensor messages the service starts and stops. */
export interface ServiceSource {
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Resolves once the source can receive (e.g. a ZeroMQ SUB socket connected to each of its
   * endpoints); absent = ready as soon as `start` resolved. The service is ready when all are.
   */
  ready?(): Promise<void>;
}
