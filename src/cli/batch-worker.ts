/**
 * A `replay-batch` worker process (forked by the command): replays the drives it is sent, one at a
 * time, writes each report (atomically: a temporary file renamed into place, so a merge never
 * reads half a report) and says when it is done. Its own process, so a drive that crashes the
 * runtime takes down one worker, not the batch.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DriveRef } from '../fleet/drive-list.js';
import { runBatchDrive, type BatchDriveOptions } from './batch-drive.js';
import { jsonValue } from './json-value.js';

/** Parent → worker. */
export interface BatchJob {
  type: 'drive';
  drive: DriveRef;
  reportPath: string;
  options: Omit<BatchDriveOptions, 'log'>;
}

/** Worker → parent. */
export interface BatchJobDone {
  type: 'done';
  name: string;
  ok: boolean;
  why?: string;
}

export function writeReportFile(path: string, report: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(report, jsonValue, 2)}\n`);
  renameSync(tmp, path);
}

if (process.send) {
  process.on('message', (m: BatchJob) => {
    if (m?.type !== 'drive') return;
    void runBatchDrive(m.drive, m.options).then((report) => {
      let done: BatchJobDone;
      try {
        writeReportFile(m.reportPath, report);
        done = {
          type: 'done',
          name: m.drive.name,
          ok: report.ok,
          why: report.failure ? `${report.failure.where}: ${report.failure.why}` : undefined,
        };
      } catch (err) {
        done = { type: 'done', name: m.drive.name, ok: false, why: `report: ${(err as Error).message}` };
      }
      process.send!(done);
    });
  });
  // The parent going away ends the worker (no orphan replays).
  process.on('disconnect', () => process.exit(0));
}
