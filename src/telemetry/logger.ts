import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * JSON logs on stderr (stdout carries the status line). Synchronous writes: logs are rate-limited
 * on every per-message path, and a synchronous sink loses nothing when the process exits.
 */
export function createLogger(level: LevelWithSilent = 'info'): Logger {
  return pino({ level, base: { svc: 'smi-fusion' } }, pino.destination({ fd: 2, sync: true }));
}
