import { Subscriber } from 'zeromq';
import type { Logger } from '../telemetry/logger.js';

/** Receives multipart sensor messages on a ZeroMQ SUB socket and hands each to `onMessage`. */
export class ZmqSensorSource {
  private readonly socket = new Subscriber({ linger: 0, receiveHighWaterMark: 10_000 });
  private loop: Promise<void> | undefined;
  /** Endpoints actually bound or connected (a `:*` port is resolved after bind). */
  readonly endpoints: string[] = [];

  constructor(
    private readonly spec: { endpoints: readonly string[]; bind: boolean },
    private readonly onMessage: (parts: Buffer[], receivedNs: bigint) => void,
    private readonly log: Logger,
  ) {}

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
    this.socket.subscribe('sensor/');
    this.log.info({ endpoints: this.endpoints, bind: this.spec.bind }, 'zmq source listening');
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
