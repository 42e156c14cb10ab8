import { Subscriber } from 'zeromq';
import type { Logger } from '../telemetry/logger.js';
import type { CurveSpec } from '../smi/spec/pipeline-spec.js';
import { readCurveKeys } from './curve-keys.js';
import { ZapAuthenticator, type ZapResult } from './zap-authenticator.js';

let domains = 0;

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
  /** Endpoints the SUB socket has connected to (connect mode), from the socket's events. */
  private readonly connected = new Set<string>();
  private onConnected: (() => void) | undefined;
  /** ZAP domain of this socket when it requires CURVE. */
  private zapDomain: string | undefined;
  /** Authenticated peers: address → CURVE public key (Z85), the ZAP user id. */
  readonly peers = new Map<string, string>();

  constructor(
    private readonly spec: { endpoints: readonly string[]; bind: boolean; curve?: CurveSpec },
    private readonly onMessage: (parts: Buffer[], receivedNs: bigint) => void,
    private readonly log: Logger,
    private readonly options: {
      subscribe?: readonly string[];
      highWaterMark?: number;
      name?: string;
      /** Every CURVE handshake's outcome (refused ones are what a metric should count). */
      onAuth?: (r: ZapResult) => void;
    } = {},
  ) {
    this.socket = new Subscriber({ linger: 0, receiveHighWaterMark: options.highWaterMark ?? 10_000 });
  }

  async start(): Promise<void> {
    if (this.spec.curve) await this.requireCurve(this.spec.curve);
    if (!this.spec.bind) {
      // A connect completes asynchronously (and again after a driver restarts): follow it.
      this.socket.events.on('handshake', ({ address }) => {
        if (!this.connected.has(address)) this.log.info({ endpoint: address }, 'zmq source connected');
        this.connected.add(address);
        if (this.connected.size >= this.spec.endpoints.length) this.onConnected?.();
      });
    }
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

  /**
   * Makes this socket a CURVE server whose peers must present an allowed public key: encrypted
   * and authenticated, or no connection (`zapEnforceDomain`: without a ZAP answer, refused).
   */
  private async requireCurve(curve: CurveSpec): Promise<void> {
    const keys = readCurveKeys(curve);
    const domain = `smi-${this.options.name ?? 'source'}-${++domains}`;
    this.zapDomain = domain;
    const zap = ZapAuthenticator.shared(this.log);
    await zap.ready;
    zap.allow(domain, keys.clientKeys, (r) => {
      if (r.accepted) this.peers.set(r.address, r.clientKey);
      this.options.onAuth?.(r);
    });
    // A peer without CURVE (or with a broken handshake) never reaches the ZAP handler: count it here.
    this.socket.events.on('handshake:error:protocol', ({ address }) =>
      this.options.onAuth?.({ domain, clientKey: '', address, accepted: false }),
    );
    this.socket.curveServer = true;
    this.socket.curveSecretKey = keys.secretKey;
    this.socket.zapDomain = domain;
    this.socket.zapEnforceDomain = true;
    this.log.info(
      { socket: this.options.name, allowedKeys: keys.clientKeys.size, keysFile: curve.clientKeysFile },
      'zmq source requires CURVE',
    );
  }

  /**
   * Resolves when the socket can receive: at once when it binds (drivers connect to it), else
   * once it has connected (ZMTP handshake done) to every endpoint. Its subscription then still
   * travels to each driver's PUB socket, which drops what it sends before that arrives (README,
   * "Readiness").
   */
  ready(): Promise<void> {
    if (this.spec.bind || this.connected.size >= this.spec.endpoints.length) return Promise.resolve();
    return new Promise((resolve) => {
      this.onConnected = resolve;
    });
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
    if (this.zapDomain) ZapAuthenticator.shared(this.log).forget(this.zapDomain);
  }
}
