import { Subscriber } from 'zeromq';
import { decodeHeader } from '../wire/codec.js';

export interface OutputMessage {
  topic: string;
  header: Record<string, unknown>;
  payload: Float32Array;
}

/** Subscribes to a service's `out/` topics and keeps every message, decoded. */
export class OutputCollector {
  readonly messages: OutputMessage[] = [];
  private readonly socket = new Subscriber({ linger: 0 });
  private loop: Promise<void> | undefined;

  connect(endpoint: string): void {
    this.socket.connect(endpoint);
    this.socket.subscribe('out/');
    this.loop = (async () => {
      for await (const [topic, header, payload] of this.socket) {
        const bytes = payload ? new Uint8Array(payload) : new Uint8Array(0);
        this.messages.push({
          topic: topic!.toString(),
          header: decodeHeader(header!) as Record<string, unknown>,
          payload: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2),
        });
      }
    })();
  }

  of(topic: string): OutputMessage[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  /** Waits (bounded) until `predicate` holds over the collected messages. */
  until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return waitFor(predicate, timeoutMs, what);
  }

  async close(): Promise<void> {
    this.socket.close();
    await this.loop;
  }
}

/** Polls `predicate` every 20 ms until it holds or `timeoutMs` passes (then throws naming `what`). */
export async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
