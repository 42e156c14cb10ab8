/**
 * The ring under SampleRing and SpanRing: single producer, single consumer, over shared memory,
 * fixed-width entries of Float64. The producer never waits: when the ring is full an entry is
 * dropped and counted. Subclasses say what the fields of an entry are.
 *
 * Layout at `offset`: Int32 × 4 [head (written), tail (read), dropped, -], then `capacity`
 * entries of `width` × Float64.
 */
const CTL = { head: 0, tail: 1, dropped: 2, words: 4 } as const;

export abstract class EntryRing {
  private readonly ctl: Int32Array;
  protected readonly data: Float64Array;

  protected constructor(
    sab: SharedArrayBuffer,
    offset: number,
    readonly capacity: number,
    private readonly width: number,
    what: string,
  ) {
    if (offset % 8 !== 0 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(
        `${what}: offset ${offset} must be 8-aligned, capacity ${capacity} a power of two`,
      );
    }
    this.ctl = new Int32Array(sab, offset, CTL.words);
    this.data = new Float64Array(sab, offset + CTL.words * 4, capacity * width);
  }

  protected static bytesForEntries(capacity: number, width: number): number {
    return CTL.words * 4 + capacity * width * 8;
  }

  /** Producer: where the next entry's fields go in `data`, or -1 (counted) when the ring is full. */
  protected claim(): number {
    const head = Atomics.load(this.ctl, CTL.head);
    if (((head - Atomics.load(this.ctl, CTL.tail)) | 0) >= this.capacity) {
      Atomics.add(this.ctl, CTL.dropped, 1);
      return -1;
    }
    return (head & (this.capacity - 1)) * this.width;
  }

  /** Producer: the claimed entry's fields are written; the consumer may read it. */
  protected publish(): void {
    Atomics.store(this.ctl, CTL.head, (Atomics.load(this.ctl, CTL.head) + 1) | 0);
  }

  /** Consumer: `read(o)` for every pending entry (its fields start at data[o]); returns how many. */
  protected consume(read: (o: number) => void): number {
    const head = Atomics.load(this.ctl, CTL.head);
    let tail = Atomics.load(this.ctl, CTL.tail);
    let n = 0;
    while (tail !== head) {
      read((tail & (this.capacity - 1)) * this.width);
      tail = (tail + 1) | 0;
      n++;
    }
    Atomics.store(this.ctl, CTL.tail, tail);
    return n;
  }

  /** Entries dropped because the consumer did not keep up. */
  get dropped(): number {
    return Atomics.load(this.ctl, CTL.dropped);
  }
}
