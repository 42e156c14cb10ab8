/**
 * A ZAP handler (ZeroMQ RFC 27) for CURVE-protected sources: libzmq asks it, over
 * `inproc://zeromq.zap.01`, whether each connecting peer's public key may connect. One per
 * thread (a ZeroMQ context is per thread here); each source registers its ZAP domain with the
 * keys it allows. The ZAP user id of an accepted peer is its Z85 public key: the identity a
 * TrafficTarget can name.
 */
import { Reply } from 'zeromq';
import type { Logger } from '../telemetry/logger.js';

/** The result of one handshake: which source (ZAP domain), who, from where, and whether allowed. */
export interface ZapResult {
  domain: string;
  /** The peer's CURVE public key, Z85. */
  clientKey: string;
  address: string;
  accepted: boolean;
}

interface Domain {
  keys: ReadonlySet<string>;
  onResult: (r: ZapResult) => void;
}

const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

/** Z85 text of bytes whose length is a multiple of 4 (a 32-byte CURVE key gives 40 characters). */
export function z85Encode(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    let v = ((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!) >>> 0;
    let chunk = '';
    for (let k = 0; k < 5; k++) {
      chunk = Z85[v % 85]! + chunk;
      v = Math.floor(v / 85);
    }
    out += chunk;
  }
  return out;
}

export class ZapAuthenticator {
  private static instance: ZapAuthenticator | undefined;
  private readonly domains = new Map<string, Domain>();
  private readonly socket = new Reply({ linger: 0 });
  /** Resolves once the handler is bound: a CURVE socket must not bind or connect before. */
  readonly ready: Promise<void>;

  /** This thread's handler, bound on first use. */
  static shared(log: Logger): ZapAuthenticator {
    return (ZapAuthenticator.instance ??= new ZapAuthenticator(log));
  }

  private constructor(private readonly log: Logger) {
    this.ready = this.socket.bind('inproc://zeromq.zap.01');
    void this.ready.then(
      () => this.serve(),
      (err: unknown) => log.error({ err }, 'zap handler: cannot bind inproc://zeromq.zap.01'),
    );
  }

  /** Lets the peers whose public keys are in `keys` connect to sockets of ZAP domain `domain`. */
  allow(domain: string, keys: ReadonlySet<string>, onResult: (r: ZapResult) => void): void {
    this.domains.set(domain, { keys, onResult });
  }

  /** Forgets a domain: its peers are refused from now on. */
  forget(domain: string): void {
    this.domains.delete(domain);
    if (this.domains.size === 0 && ZapAuthenticator.instance === this) {
      ZapAuthenticator.instance = undefined;
      this.socket.close();
    }
  }

  private async serve(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        const [version, requestId, domainB, addressB, , mechanismB, credential] = frames;
        const domain = domainB?.toString() ?? '';
        const mechanism = mechanismB?.toString();
        const d = this.domains.get(domain);
        const clientKey = mechanism === 'CURVE' && credential?.length === 32 ? z85Encode(credential) : '';
        const accepted = d !== undefined && clientKey !== '' && d.keys.has(clientKey);
        await this.socket.send([
          version ?? '1.0',
          requestId ?? '',
          accepted ? '200' : '400',
          accepted ? 'OK' : 'public key not allowed',
          accepted ? clientKey : '',
          '',
        ]);
        d?.onResult({ domain, clientKey, address: addressB?.toString() ?? '', accepted });
      }
    } catch (err) {
      if (!this.socket.closed) this.log.error({ err }, 'zap handler failed: CURVE peers will be refused');
    }
  }
}
