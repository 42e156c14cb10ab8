/**
 * The main thread's end of the output ring: takes each message the tracker thread wrote, sends it
 * on the PUB socket (`spec.outputs.publish`, bound here, so subscribers keep their connection
 * when the tracker thread is replaced) and hands it to the taps (recording, reports, the live
 * view). It wakes on the ring's futex word without blocking the event loop.
 */
import { OutputPublisher } from '../../io/output-publisher.js';
import type { OutputRing } from '../../workers/output-ring.js';

export class OutputPump {
  private readonly publisher = new OutputPublisher();
  private stopped = false;
  private loop: Promise<void> | undefined;
  /** Sees every message after it was sent. */
  listener: ((parts: Buffer[]) => void) | undefined;
  /** Called once per drain that published anything (the supervisor's first-output mark). */
  onPublished: (() => void) | undefined;

  constructor(private readonly ring: OutputRing) {}

  /** Binds the PUB socket; resolves with the bound endpoint. */
  async bind(endpoint: string): Promise<string> {
    return this.publisher.bind(endpoint);
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Publishes what is waiting now; returns how many messages. */
  drain(): number {
    const n = this.ring.drain((parts) => {
      this.publisher.publish(parts);
      this.listener?.(parts);
    });
    if (n > 0) this.onPublished?.();
    return n;
  }

  /** Messages the PUB socket failed to send, and messages the ring refused (the pump fell behind). */
  get dropped(): { send: number; ring: number } {
    return { send: this.publisher.dropped, ring: this.ring.dropped };
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.ring.waitAsync(100);
      this.drain();
    }
  }

  /** Publishes what is left, then closes the socket. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.ring.wake();
    await this.loop;
    this.drain();
    await this.publisher.close();
  }
}
