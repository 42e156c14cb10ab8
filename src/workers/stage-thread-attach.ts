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
  /** This thread's kernel thread id. */
  tid: number;
}

/**
 * With `standby`, neither the class priority nor the thread id is taken yet (a standby loads at
 * best-effort priority, and the running thread of that index still owns the id): see
 * activateStageThread.
 */
export function attachStageThread(
  data: StageThreadData,
  name: string,
  options: { standby?: boolean } = {},
): AttachedStageThread {
  // A standby (created by a real-time thread, whose policy it inherits) loads and warms up at the
  // best-effort class's priority: it must not compete with the thread it may replace.
  const priority = options.standby ? `standby: ${setThreadClass(3)}` : threadPriorityOf(data);
  const log = createLogger(data.logLevel as LevelWithSilent).child({ thread: name });
  const pool = SlotPool.attach(data.poolSab);
  const block = SchedulerBlock.attach(data.blockSab, data.blockShape);
  const tid = currentThreadId();
  if (!options.standby) block.setThreadId(data.thread, tid);
  return { priority, log, limited: new RateLimitedLog(log), pool, block, tid };
}

/** A standby takes over: its class priority and its thread index's id. */
export function activateStageThread(attached: AttachedStageThread, data: StageThreadData): void {
  attached.priority = threadPriorityOf(data);
  attached.block.setThreadId(data.thread, attached.tid);
}

function threadPriorityOf(data: StageThreadData): string {
  return data.priority === undefined
    ? 'priority unchanged'
    : setThreadClass(data.priority.rank, data.priority.realtime);
}
