import { Subscriber } from 'zeromq';
import type { Logger } from '../telemetry/logger.js';

/**
 * Receives multipart sensor messages on a ZeroMQ SUB socket and hands each to `onMessage`. The
 * service opens one socket per class of traffic (`subscribe` prefixes), each with its own queue
 * (`highWaterMark` messages), so that a backlog of big lidar frames never sits ahead of radar.
 */
export class ZmqSensorSource {
  private readonly socket: Subscriber;
  private loop: Promise<void> | undefined;
  /** Endpoints actually bound or connected (a `:*` port is resolved after bind). */
  readonly endpoints: string[] = [];

  constructor(
    private readonly spec: { endpoints: readonly string[]; bind: boolean },
    private readonly onMessage: (parts: Buffer[], receivedNs: bigint) => void,
    private readonly log: Logger,
    private readonly options: { subscribe?: readonly string[]; highWaterMark?: number; name?: string } = {},
  ) {
    this.socket = new Subscriber({ linger: 0, receiveHighWaterMark: options.highWaterMark ?? 10_000 });
  }

  async start(): Promise<void> {
    for (const ep of this.spec.endpoints) {
      try {
        if (this.spec.bind) {
          await this.socket.bind(ep);
          this.endpoints.push(this.socket.lastEndpoint ?? ep);
        } else {
          this.socket.connect(ep);
          this.endpoints.push(ep);
        }
      } catch (err) {
        throw new Error(
          `zmq source: cannot ${this.spec.bind ? 'bind' : 'connect'} ${ep}: ${(err as Error).message}`,
        );
      }
    }
    const topics = this.options.subscribe ?? ['sensor/'];
    for (const t of topics) this.socket.subscribe(t);
    this.log.info(
      { endpoints: this.endpoints, bind: this.spec.bind, subscribe: topics, socket: this.options.name },
      'zmq source listening',
    );
    this.loop = this.receiveLoop();
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const parts of this.socket) this.onMessage(parts, process.hrtime.bigint());
    } catch (err) {
      if (!this.socket.closed) this.log.error({ err }, 'zmq source receive failed');
    }
  }

  /** Stops receiving; resolves when the receive loop has ended. */
  async stop(): Promise<void> {
    if (!this.socket.closed) this.socket.close();
    await this.loop;
  }
}
