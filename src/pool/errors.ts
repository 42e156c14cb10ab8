/** A commit longer than its channel's slots: refused and counted, never truncated. */
export class TooLargeError extends RangeError {
  constructor(
    readonly channel: string,
    readonly length: number,
    readonly slotBytes: number,
  ) {
    super(
      `pool channel '${channel}': ${length} bytes exceed the ${slotBytes}-byte slot; refused, not truncated`,
    );
    this.name = 'TooLargeError';
  }
}

/** The reader's entry was reclaimed (its lease ran out): its slots are gone; open a new reader. */
export class ReaderEvictedError extends Error {
  constructor(
    readonly channel: string,
    readonly entry: number,
  ) {
    super(`pool channel '${channel}': reader ${entry} was evicted (lease expired); open a new reader`);
    this.name = 'ReaderEvictedError';
  }
}
