/** Piscina task for the shared-pool ordering test: busy for `ms`, then returns its label. */
export default function busyTask(task: { label: string; ms: number }): { label: string; endNs: bigint } {
  const end = performance.now() + task.ms;
  while (performance.now() < end) {
    // a stage's work: keep the one pool thread busy
  }
  return { label: task.label, endNs: process.hrtime.bigint() };
}
