/**
 * A piscina task queue for the shared pool (stages placed `shared`): tasks run by class, then
 * earliest deadline, like every other ready queue of the scheduler. A task carries its order in
 * `[Piscina.queueOptionsSymbol]: { classRank, deadlineNs }`; tasks without it run last, in
 * arrival order.
 */
import { Piscina, type PiscinaTask, type TaskQueue } from 'piscina';

export interface SharedTaskOrder {
  classRank: number;
  deadlineNs: number;
}

type Task = PiscinaTask;

const orderOf = (t: Task): SharedTaskOrder => {
  const o = (t as unknown as Record<symbol, unknown>)[Piscina.queueOptionsSymbol] as
    SharedTaskOrder | null | undefined;
  return o ?? { classRank: 9, deadlineNs: Infinity };
};

export class ClassEdfTaskQueue implements TaskQueue {
  private readonly tasks: { task: Task; order: SharedTaskOrder; arrival: number }[] = [];
  private arrivals = 0;

  get size(): number {
    return this.tasks.length;
  }

  push(task: Task): void {
    const entry = { task, order: orderOf(task), arrival: this.arrivals++ };
    // Queues here are a handful of tasks: insertion keeps them sorted without a heap.
    let i = this.tasks.length;
    while (i > 0 && this.before(entry, this.tasks[i - 1]!)) i--;
    this.tasks.splice(i, 0, entry);
  }

  shift(): Task | null {
    return this.tasks.shift()?.task ?? null;
  }

  remove(task: Task): void {
    const i = this.tasks.findIndex((e) => e.task === task);
    if (i >= 0) this.tasks.splice(i, 1);
  }

  private before(
    a: { order: SharedTaskOrder; arrival: number },
    b: { order: SharedTaskOrder; arrival: number },
  ): boolean {
    if (a.order.classRank !== b.order.classRank) return a.order.classRank < b.order.classRank;
    if (a.order.deadlineNs !== b.order.deadlineNs) return a.order.deadlineNs < b.order.deadlineNs;
    return a.arrival < b.arrival;
  }
}
