/**
 * A Foxglove viewer for tests: a real ws-protocol client (@foxglove/ws-protocol's FoxgloveClient
 * over a `ws` WebSocket) that subscribes to advertised channels and decodes every message with the
 * channel's advertised schema: CDR with the ros2msg definition (@foxglove/rosmsg +
 * @foxglove/rosmsg2-serialization, as Foxglove does), JSON checked against the jsonschema's
 * property names (no field the schema does not declare).
 */
import WebSocket from 'ws';
import wsProtocol, { type Channel, type StatusMessage } from '@foxglove/ws-protocol';
import { parse } from '@foxglove/rosmsg';
import { MessageReader } from '@foxglove/rosmsg2-serialization';
import { waitFor } from './output-collector.js';

const { FoxgloveClient } = wsProtocol;

export interface ViewerMessage {
  topic: string;
  timestampNs: bigint;
  bytes: number;
  value: Record<string, unknown>;
}

type JsonSchema = { type?: string; properties?: Record<string, JsonSchema>; items?: JsonSchema };

/** Keys of `value` that `schema` does not declare, as paths. */
function undeclared(value: unknown, schema: JsonSchema, path: string): string[] {
  if (Array.isArray(value))
    return value.flatMap((v, i) => (schema.items ? undeclared(v, schema.items, `${path}[${i}]`) : []));
  if (typeof value !== 'object' || value === null || !schema.properties) return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const s = schema.properties![k];
    return s ? undeclared(v, s, `${path}.${k}`) : [`${path}.${k}`];
  });
}

export class FoxgloveViewer {
  readonly ws: WebSocket;
  private readonly client: InstanceType<typeof FoxgloveClient>;
  readonly channels = new Map<number, Channel>();
  readonly messages: ViewerMessage[] = [];
  readonly statuses: StatusMessage[] = [];
  readonly errors: string[] = [];
  private readonly decoders = new Map<number, (data: ArrayBufferView) => Record<string, unknown>>();
  private readonly bySubscription = new Map<number, Channel>();

  constructor(url: string) {
    this.ws = new WebSocket(url, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]);
    this.client = new FoxgloveClient({ ws: this.ws as never });
    this.client.on('advertise', (chs) => {
      for (const c of chs) {
        this.channels.set(c.id, c);
        this.decoders.set(c.id, this.decoderFor(c));
      }
    });
    this.client.on('status', (s) => this.statuses.push(s));
    this.client.on('error', (e) => this.errors.push(e.message));
    this.client.on('message', ({ subscriptionId, timestamp, data }) => {
      const ch = this.bySubscription.get(subscriptionId);
      if (!ch) return void this.errors.push(`message on unknown subscription ${subscriptionId}`);
      try {
        const value = this.decoders.get(ch.id)!(data);
        this.messages.push({ topic: ch.topic, timestampNs: timestamp, bytes: data.byteLength, value });
      } catch (err) {
        this.errors.push(`${ch.topic}: ${(err as Error).message}`);
      }
    });
  }

  private decoderFor(c: Channel): (data: ArrayBufferView) => Record<string, unknown> {
    if (c.encoding === 'cdr' && c.schemaEncoding === 'ros2msg') {
      const reader = new MessageReader(parse(c.schema, { ros2: true }));
      return (data) => {
        const v = reader.readMessage<Record<string, unknown>>(data);
        if (reader.lastReadHadTrailingBytes()) throw new Error('trailing bytes after the message');
        return v;
      };
    }
    if (c.encoding === 'json' && c.schemaEncoding === 'jsonschema') {
      const schema = JSON.parse(c.schema) as JsonSchema;
      const text = new TextDecoder();
      return (data) => {
        const v = JSON.parse(text.decode(data as DataView)) as Record<string, unknown>;
        const extra = undeclared(v, schema, c.schemaName);
        if (extra.length > 0) throw new Error(`fields not in the schema: ${extra.slice(0, 5).join(', ')}`);
        return v;
      };
    }
    return () => {
      throw new Error(`unsupported encoding ${c.encoding}/${c.schemaEncoding}`);
    };
  }

  /** Waits until `topics` are advertised, then subscribes to each; returns their channels. */
  async subscribe(topics: readonly string[], timeoutMs = 5000): Promise<Channel[]> {
    const find = (t: string) => [...this.channels.values()].find((c) => c.topic === t);
    await waitFor(() => topics.every((t) => find(t)), timeoutMs, `advertisements of ${topics.join(', ')}`);
    return topics.map((t) => {
      const ch = find(t)!;
      this.bySubscription.set(this.client.subscribe(ch.id), ch);
      return ch;
    });
  }

  /** Subscribes to every advertised channel (after the first advertisement arrives). */
  async subscribeAll(timeoutMs = 5000): Promise<Channel[]> {
    await waitFor(() => this.channels.size > 0, timeoutMs, 'an advertisement');
    return this.subscribe(
      [...this.channels.values()].map((c) => c.topic),
      timeoutMs,
    );
  }

  of(topic: string): ViewerMessage[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  /** Stops reading from the socket: the server's send buffer for this viewer fills up. */
  stopReading(): void {
    (this.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  }

  resumeReading(): void {
    (this.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  }

  close(): void {
    this.ws.terminate();
  }
}
