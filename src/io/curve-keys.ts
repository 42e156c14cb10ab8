/**
 * CURVE key files for a zmq source: the service's secret key and the public keys of the drivers
 * allowed to connect, as Z85 text (40 characters per key, what `zmq_curve_keypair` and
 * zeromq.js `curveKeyPair()` print). A line is a key, a czmq certificate line
 * (`secret-key = "..."` / `public-key = "..."`), a `#` comment or blank. The secret key file
 * must not be readable by group or others (like an ssh key), so a copy left world-readable is
 * refused at start rather than used.
 */
import { readFileSync, statSync } from 'node:fs';
import type { CurveSpec } from '../smi/spec/pipeline-spec.js';

const Z85_KEY = /^[0-9A-Za-z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

export interface CurveKeys {
  /** The service's Z85 secret key (never logged). */
  secretKey: string;
  /** Z85 public keys allowed to connect. */
  clientKeys: ReadonlySet<string>;
}

function keysIn(file: string, which: 'secret' | 'public'): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`curve: cannot read ${file}: ${(err as Error).message}`);
  }
  const keys: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || (line.startsWith('#') && !Z85_KEY.test(line))) return;
    const cert = /^(public|secret)-key\s*=\s*"(.*)"$/.exec(line);
    const key = cert ? cert[2]! : line;
    if (cert && cert[1] !== which) return;
    if (!Z85_KEY.test(key)) {
      throw new Error(`curve: ${file}:${i + 1}: not a Z85 ${which} key (40 characters of the Z85 alphabet)`);
    }
    keys.push(key);
  });
  return keys;
}

/** Reads and checks a source's key files; errors name the file (and line) and what is wrong. */
export function readCurveKeys(spec: CurveSpec): CurveKeys {
  let mode: number;
  try {
    mode = statSync(spec.secretKeyFile).mode;
  } catch (err) {
    throw new Error(`curve: cannot read ${spec.secretKeyFile}: ${(err as Error).message}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new Error(
      `curve: ${spec.secretKeyFile} is readable by group or others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`,
    );
  }
  const secret = keysIn(spec.secretKeyFile, 'secret');
  if (secret.length !== 1) {
    throw new Error(`curve: ${spec.secretKeyFile} must hold exactly one secret key; found ${secret.length}`);
  }
  const clients = keysIn(spec.clientKeysFile, 'public');
  if (clients.length === 0) {
    throw new Error(`curve: ${spec.clientKeysFile} holds no public key: no driver could connect`);
  }
  return { secretKey: secret[0]!, clientKeys: new Set(clients) };
}
