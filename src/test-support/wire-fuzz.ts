/**
 * Seeded mutators for fuzz tests: hostile multipart messages for the ingest decoder, and hostile
 * YAML for the spec loader. Random (bytes from nothing) and structure-aware (a valid message or
 * document with one or more parts changed the way a buggy or malicious sender would change them).
 */
import { Prng } from '../sim/prng.js';
import { encodeHeader, sensorTopic } from '../wire/codec.js';
import { makeSensorHeader } from '../wire/header-validator.js';
import { LAYOUTS, type SensorKind } from '../wire/layouts.js';
import type { SensorConfig } from '../wire/rig.js';

export class Fuzz {
  readonly rng: Prng;
  constructor(seed: number) {
    this.rng = new Prng(seed, 7);
  }
  int(n: number): number {
    return this.rng.nextU32() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.rng.uniform() < p;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }

  /** A value of any msgpack-able type, including the awkward ones. */
  value(depth = 0): unknown {
    switch (this.int(depth > 2 ? 9 : 12)) {
      case 0:
        return this.int(256) - 32;
      case 1:
        return this.pick([0, 1, -1, 2 ** 31, 2 ** 32, 2 ** 53 - 1, -(2 ** 53), 0xffffffff]);
      case 2:
        return this.pick([2n ** 63n, 2n ** 64n - 1n, -(2n ** 63n), 0n, 1n]);
      case 3:
        return this.pick([1.0, 1.5, -0.0, NaN, Infinity, -Infinity, 1e39, 5e-324]);
      case 4:
        return this.pick(['', 'lidar', 'radar', 'ego', 'x', '\u0000', 'é', 'a'.repeat(300)]);
      case 5:
        return null;
      case 6:
        return this.chance(0.5);
      case 7:
        return undefined;
      case 8:
        return this.rng.range(-1e6, 1e6);
      case 9:
        return Array.from({ length: this.int(6) }, () => this.value(depth + 1));
      case 10: {
        const m: Record<string, unknown> = {};
        for (let i = this.int(4); i > 0; i--)
          m[this.pick(['a', 'v', 'seq', '__proto__', 'k'])] = this.value(depth + 1);
        return m;
      }
      default:
        return Array.from({ length: 70 }, () => 1);
    }
  }

  /** A plausible record value for field `f` of `kind`, or a hostile one with probability `p`. */
  private field(kind: SensorKind, f: number, p: number): number {
    if (this.chance(p)) {
      return this.pick([NaN, Infinity, -Infinity, 1e39, -1e39, 3.4e38, -1, 1e6, 7, 0.5, -0.0, 2 ** 24 + 1]);
    }
    switch (kind) {
      case 'lidar':
        return f === 3 ? this.rng.uniform() : this.rng.range(-80, 80);
      case 'radar':
        return [this.rng.range(1, 150), this.rng.range(-1, 1), this.rng.range(-30, 30), 10][f]!;
      case 'camera':
        return [1, 0.8, 100, 200, 300, 400, 0.1, 25][f]!;
      case 'objects':
        return [20, 1, 0.5, 4.5, 1.8, 1.5, 0.1, 1, 0.9, 1, 0, 0.1, 0, 0.1, 0.01, 0.5][f]!;
      case 'ego':
        return [10, 2, 0.1, 15, 0.01, 0.2][f]!;
    }
  }

  /** A payload of `count` records of `kind`; each field hostile with probability `p`. */
  payload(kind: SensorKind, count: number, p: number): Buffer {
    const layout = LAYOUTS[kind];
    const n = layout.fields.length;
    const values = layout.scalar === 'f32' ? new Float32Array(count * n) : new Float64Array(count * n);
    for (let i = 0; i < count; i++) for (let f = 0; f < n; f++) values[i * n + f] = this.field(kind, f, p);
    return Buffer.from(values.buffer);
  }

  /** One hostile message `[topic, header, payload?]` (or another frame count) for a rig. */
  message(sensors: readonly SensorConfig[], seq: number, stampNs: bigint): Buffer[] {
    const s = this.pick(sensors);
    const kind = s.kind;
    const count = kind === 'ego' ? 1 : this.int(kind === 'lidar' ? 200 : 12);
    const payload = this.payload(kind, count, this.pick([0, 0, 0.002, 0.05, 0.5]));
    const header: Record<string, unknown> = { ...makeSensorHeader(kind, s.id, seq, stampNs, count) };
    let topic = Buffer.from(sensorTopic(kind, s.id));
    let parts: Buffer[];
    switch (this.int(10)) {
      case 0: // random frames
        return Array.from({ length: this.int(5) }, () => this.bytes(this.int(64)));
      case 1: // header fields replaced by arbitrary values
        for (let i = 1 + this.int(3); i > 0; i--) {
          header[
            this.pick([
              'v',
              'kind',
              'sensorId',
              'seq',
              'stampNs',
              'fields',
              'stride',
              'count',
              'frame',
              'extra',
            ])
          ] = this.value();
        }
        break;
      case 2: // stamps around the window and the previous message
        header.stampNs = stampNs + BigInt(this.pick([-3e9, -1e6, 0, 1, 4e7, 6e7, 1e12]));
        break;
      case 3: // seq games: restarts, repeats, the largest safe integer
        header.seq = this.pick([0, 1, seq - 1, seq, 2 ** 53 - 1, 2 ** 32 + 1]);
        break;
      case 4: // another sensor's topic, or a broken one
        topic = Buffer.from(
          this.pick([
            sensorTopic(this.pick(sensors).kind, s.id),
            `sensor/${kind}/ghost`,
            'sensor/',
            `sensor/${kind}/${s.id}/x`,
            '\xff',
          ]),
        );
        break;
      default:
        break;
    }
    let headerBytes: Buffer;
    try {
      headerBytes = Buffer.from(encodeHeader(header));
    } catch {
      headerBytes = this.bytes(this.int(40)); // a value the encoder refuses (e.g. a bigint beyond 64 bits)
    }
    parts = [topic, headerBytes, payload];
    switch (this.int(8)) {
      case 0: // flip bits in the header
        for (let i = 1 + this.int(4); i > 0 && headerBytes.length > 0; i--) {
          headerBytes[this.int(headerBytes.length)]! ^= 1 << this.int(8);
        }
        break;
      case 1: // truncate or extend the header
        parts[1] = this.chance(0.5)
          ? headerBytes.subarray(0, this.int(headerBytes.length + 1))
          : Buffer.concat([headerBytes, this.bytes(1 + this.int(8))]);
        break;
      case 2: // payload of the wrong length, or missing
        parts = this.chance(0.3)
          ? [topic, headerBytes]
          : [topic, headerBytes, payload.subarray(0, this.int(payload.length + 1))];
        break;
      case 3: // flip bits in the payload (a float turns NaN, huge or tiny)
        for (let i = 1 + this.int(8); i > 0 && payload.length > 0; i--)
          payload[this.int(payload.length)]! ^= 1 << this.int(8);
        break;
      default:
        break;
    }
    return parts;
  }

  /** `text` with 1–4 random edits: characters or lines changed, deleted, duplicated or swapped. */
  mutateYaml(text: string): string {
    const lines = text.split('\n');
    for (let k = 1 + this.int(4); k > 0; k--) {
      const i = this.int(lines.length);
      const line = lines[i]!;
      switch (this.int(9)) {
        case 0:
          lines.splice(i, 1);
          break;
        case 1:
          lines.splice(i, 0, line);
          break;
        case 2: {
          // a scalar value replaced by a hostile one
          const colon = line.indexOf(':');
          if (colon > 0) {
            lines[i] =
              line.slice(0, colon + 1) +
              ' ' +
              this.pick([
                '.inf',
                '-.inf',
                '.nan',
                '1e309',
                '-1',
                '0',
                '1e39',
                '99999999999999999999',
                '"x"',
                '[]',
                '{}',
                'null',
                '~',
                '&a 1',
                '*a',
                '!!binary AAAA',
                '0x10',
                'true',
              ]);
          }
          break;
        }
        case 3:
          lines[i] = line.slice(0, this.int(line.length + 1));
          break;
        case 4: {
          const at = this.int(line.length + 1);
          lines[i] =
            line.slice(0, at) +
            this.pick(['\t', ':', '- ', '{', '[', '"', "'", '#', '&x', '*x', '\u0000', ' ']) +
            line.slice(at);
          break;
        }
        case 5: {
          const j = this.int(lines.length);
          [lines[i], lines[j]] = [lines[j]!, line];
          break;
        }
        case 6:
          lines.splice(
            i,
            0,
            `${line.match(/^\s*/)?.[0] ?? ''}${this.pick(['unknownField: 1', 'extra: [1, 2]', '- 1', 'x: &big [1, 1, 1]'])}`,
          );
          break;
        case 7:
          lines[i] = line.replace(/\d+(\.\d+)?/, () =>
            String(this.pick([-1, 0, 1e12, 0.5, -0.0, 2 ** 31, 1e-9])),
          );
          break;
        default:
          lines[i] = line.replace(/^(\s*)/, (m) => (this.chance(0.5) ? m + ' ' : m.slice(1)));
      }
    }
    return lines.join('\n');
  }
}

/** Random YAML-looking text from nothing: keys, indentation, flow collections, anchors. */
export function randomYaml(f: Fuzz): string {
  const tokens = [
    'apiVersion:',
    'kind:',
    'Pipeline',
    'spec:',
    'sensors:',
    '- id:',
    '  ',
    '\n',
    '{',
    '}',
    '[',
    ']',
    ',',
    ':',
    '&a',
    '*a',
    '<<:',
    '!!str',
    '"',
    '#',
    '---',
    '...',
    '1',
    '-1e9',
    '.inf',
    'radar',
    'rateHz:',
    'metadata:',
    'name: x',
  ];
  let s = '';
  for (let i = f.int(60); i > 0; i--) s += f.pick(tokens) + (f.chance(0.3) ? ' ' : '');
  return s;
}

/** An alias bomb ("billion laughs"): each level references the previous one nine times. */
export function aliasBomb(levels: number): string {
  const out = ['a0: &a0 [x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < levels; i++)
    out.push(`a${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(', ')}]`);
  return `apiVersion: smi-fusion.dev/v1alpha1\nkind: Pipeline\nmetadata: { name: bomb }\n${out.join('\n')}\nspec: {}\n`;
}
