/**
 * What every stage thread does first: take its OS priority, make its logger, attach the pool and
 * the scheduler block, and record its thread id there (for CPU per thread).
 */
import type { LevelWithSilent, Logger } from 'pino';
import { SlotPool } from '../pool/slot-pool.js';
import { createLogger } from '../telemetry/logger.js';
import { RateLimitedLog } from '../telemetry/reject-log-limiter.js';
import { SchedulerBlock } from './scheduler-block.js';
import type { StageThreadData } from './stage-thread-protocol.js';
import { currentThreadId, setThreadClass } from './thread-priority.js';

export interface AttachedStageThread {
  /** What became of the thread's priority (reported in its 'ready' message). */
  priority: string;
  log: Logger;
  limited: RateLimitedLog;
  pool: SlotPool;
  block: SchedulerBlock;
}

export function attachStageThread(data: StageThreadData, name: string): AttachedStageThread {
  const priority =
    data.priority === undefined
      ? 'priority unchanged'
      : setThreadClass(data.priority.rank, data.priority.realtime);
  const log = createLogger(data.logLevel as LevelWithSilent).child({ thread: name });
  const pool = SlotPool.attach(data.poolSab);
  const block = SchedulerBlock.attach(data.blockSab, data.blockShape);
  block.setThreadId(data.thread, currentThreadId());
  return { priority, log, limited: new RateLimitedLog(log), pool, block };
}
