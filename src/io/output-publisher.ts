import { Publisher } from 'zeromq';

/**
 * The service's PUB socket for `out/tracks` and `out/plan`. zeromq.js allows one pending send per
 * socket, so messages queue here and a single pump sends them in order. The queue is bounded:
 * when subscribers cannot keep up, the oldest queued message is dropped and counted (a PUB socket
 * drops at its high-water mark anyway; counting here makes it visible).
 */
export class OutputPublisher {
  private readonly socket = new Publisher({ linger: 0, sendHighWaterMark: 1000 });
  private readonly queue: Buffer[][] = [];
  private pumping: Promise<void> | undefined;
  private closed = false;
  dropped = 0;
  /** Sees every message accepted for publishing (e.g. the recorder); must not block. */
  tap: ((parts: readonly Buffer[]) => void) | undefined;
  lastError: Error | undefined;
  endpoint = '';

  constructor(private readonly maxQueue = 64) {}

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

  /** Queues one multipart message. Buffers must not be reused by the caller afterwards. */
  publish(parts: Buffer[]): void {
    if (this.closed) return;
    this.tap?.(parts);
    if (this.queue.length >= this.maxQueue) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(parts);
    this.pumping ??= this.pump();
  }

  private async pump(): Promise<void> {
    while (this.queue.length > 0 && !this.closed) {
      const parts = this.queue.shift()!;
      try {
        await this.socket.send(parts);
      } catch (err) {
        // Only a closing socket fails a PUB send; count what was lost and say why once.
        this.dropped += 1 + this.queue.length;
        this.queue.length = 0;
        this.lastError = err as Error;
      }
    }
    this.pumping = undefined;
  }

  /** Sends what is queued (bounded by `drainMs`), then closes the socket. */
  async close(drainMs = 500): Promise<void> {
    if (this.pumping) {
      await Promise.race([this.pumping.catch(() => {}), new Promise((r) => setTimeout(r, drainMs))]);
    }
    this.closed = true;
    this.socket.close();
  }
}
