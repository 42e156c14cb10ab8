/** A pino logger whose records a test reads back (each line parsed). */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export function capturedLog(level = 'info'): { log: Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const log = pino(
    { level },
    new Writable({
      write(chunk: Buffer, _e, cb) {
        records.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        cb();
      },
    }),
  );
  return { log, records };
}
