import { Publisher } from 'zeromq';

/**
 * A PUB socket for `out/tracks` and `out/plan`. With `sendTimeout: 0` zeromq.js sends on the
 * calling thread at once (its fast path; a PUB socket never waits, it drops at its high-water
 * mark), so a critical plan leaves in the call that publishes it, not at the next turn of the event
 * loop. A send that fails (only a closing socket does) is counted.
 */
export class OutputPublisher {
  private readonly socket = new Publisher({ linger: 0, sendHighWaterMark: 1000, sendTimeout: 0 });
  private closed = false;
  dropped = 0;
  /** Sees every message accepted for publishing (e.g. the recorder); must not block. */
  tap: ((parts: readonly Buffer[]) => void) | undefined;
  lastError: Error | undefined;
  endpoint = '';

  /** Binds the endpoint (`tcp://127.0.0.1:*` picks a port); resolves with the bound endpoint. */
  async bind(endpoint: string): Promise<string> {
    try {
      await this.socket.bind(endpoint);
    } catch (err) {
      throw new Error(`output publisher: cannot bind ${endpoint}: ${(err as Error).message}`);
    }
    this.endpoint = this.socket.lastEndpoint ?? endpoint;
    return this.endpoint;
  }

  /** Sends one multipart message now. Buffers must not be reused by the caller afterwards. */
  publish(parts: Buffer[]): void {
    if (this.closed) return;
    this.tap?.(parts);
    try {
      this.socket.send(parts).catch((err: unknown) => this.failed(err));
    } catch (err) {
      this.failed(err);
    }
  }

  private failed(err: unknown): void {
    this.dropped++;
    this.lastError = err as Error;
  }

  /** Closes the socket (what was sent is in ZeroMQ's hands; linger 0 drops what is not yet out). */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.socket.closed) this.socket.close();
  }
}
