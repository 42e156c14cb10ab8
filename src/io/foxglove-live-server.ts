/**
 * A live view of the running service for Foxglove and Lichtblick: a Foxglove WebSocket protocol
 * server (`foxglove.websocket.v1`, @foxglove/ws-protocol over `ws`), as ROS users get from
 * foxglove_bridge. It streams what drives carry (point clouds, track and ground-truth boxes,
 * transforms) plus the plan and per-stage latencies.
 *
 * Best-effort by construction: every `offer*` is synchronous, bounded and never waits. Nothing is
 * encoded unless a viewer subscribed to the channel and has room for it. Each viewer has a send
 * budget (its socket's `bufferedAmount`, bytes queued and not yet taken by the kernel): a message
 * goes out only if it fits in its class's share of the viewer's limit, so large point clouds are
 * dropped first and leave room for plans, tracks and status (foxglove_bridge's lessons: issue 174,
 * PRs 126, 196, 201). Drops are counted per topic (`smi_foxglove_dropped_total`) and per viewer, and
 * the viewer is told with a status message ("Send buffer limit reached: ..."), at most every
 * STATUS_PERIOD_MS. A viewer whose queue passes HARD_LIMIT_FACTOR × its limit anyway (control
 * messages are never dropped) is disconnected rather than allowed to grow the process.
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import wsProtocol, { type IWebSocket } from '@foxglove/ws-protocol';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../telemetry/logger.js';
import type { SensorConfig } from '../wire/rig.js';
import { PLAN_LAYOUT, TRACKS_LAYOUT } from '../wire/layouts.js';
import { FOXGLOVE_TOPICS } from './drive-format.js';
import {
  FOXGLOVE_SCHEMAS,
  calibrationTransforms,
  encodePointCloud,
  float32View as floats,
  groundTruthScene,
  odometryTransform,
  planScene,
  planStatus,
  stageLatency,
  tracksScene,
  type FoxgloveSchema,
  type StageLatencies,
} from './foxglove-messages.js';

const { FoxgloveServer, StatusLevel } = wsProtocol;

/**
 * Priority classes, most important first, and the share of a viewer's send limit each may fill:
 * a message is sent only while `bufferedAmount + its bytes` stays within `share × (limit − a
 * reserve of 16 KiB)`. Control messages (advertisements, the drop status) are always sent,
 * into the reserve, so that they too keep the queue within the limit.
 */
export const SEND_CLASSES = {
  /** plans and their status: never starved by anything below. */
  plan: { rank: 0, share: 1.0 },
  /** track boxes and transforms (the 3D view needs them to place anything). */
  tracks: { rank: 1, share: 0.9 },
  /** ground truth and latencies. */
  context: { rank: 2, share: 0.75 },
  /** point clouds: large, dropped first. */
  pointCloud: { rank: 3, share: 0.5 },
} as const;
export type SendClass = keyof typeof SEND_CLASSES;

/** Topics of the live view beyond the drive's Foxglove channels. */
export const LIVE_TOPICS = {
  plan: '/foxglove/plan',
  planStatus: '/smi_fusion/plan',
  latency: '/smi_fusion/latency',
} as const;

/** Bytes of a binary message frame before the payload: opcode, subscription id, timestamp. */
const FRAME_HEADER_BYTES = 1 + 4 + 8;
/** Kept free of data messages in every viewer's send limit (at most an eighth of it), for control messages. */
const CONTROL_RESERVE_BYTES = 16 * 1024;
/** A viewer is told about its drops at most this often. */
export const STATUS_PERIOD_MS = 2000;
/** A viewer whose queue passes this many times its limit is disconnected. */
export const HARD_LIMIT_FACTOR = 4;
/** Calibration transforms are repeated this often so a viewer that joins late has the tree. */
const CALIBRATION_PERIOD_MS = 1000;
/**
 * High-rate views are thinned to at most one message per this many ns of stamp (25 Hz): odometry
 * (100 Hz) and ground truth (at every odometry message) cost the service's thread a JSON encode
 * each, and a viewer needs neither faster (Foxglove interpolates transforms).
 */
export const THIN_PERIOD_NS = 40_000_000n;

export interface FoxgloveLiveOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Per-viewer send-buffer limit, bytes (default 16 MiB). */
  sendBufferBytes?: number;
  /** The rig: which lidar channels to advertise, and the calibration transforms. */
  sensors: readonly SensorConfig[];
  log: Logger;
  /** Registry for `smi_foxglove_*` metrics (the service's). */
  registry?: Registry;
  /** Server name shown by the viewer. */
  name?: string;
}

interface LiveChannel {
  id: number;
  topic: string;
  cls: SendClass;
  /** Viewers subscribed to it (FoxgloveServer reports the first subscribe and the last unsubscribe). */
  subscribed: boolean;
}

/** Per-viewer counts, as `viewers()` reports them. */
export interface ViewerStats {
  name: string;
  sent: number;
  dropped: number;
  droppedByClass: Record<SendClass, number>;
  /** Largest `bufferedAmount` seen before a send, bytes. */
  maxBufferedBytes: number;
  statusSent: number;
}

/**
 * One viewer's socket as FoxgloveServer sees it: each binary message passes the budget check
 * before any byte of it is queued. FoxgloveServer sends a message as two fragments (its header,
 * then the payload, when `send` takes options); the decision is made on the first.
 */
class ViewerSocket implements IWebSocket {
  binaryType = 'arraybuffer';
  onerror: ((event: unknown) => void) | null | undefined;
  onopen: ((event: unknown) => void) | null | undefined;
  onclose: ((event: unknown) => void) | null | undefined;
  onmessage: ((event: unknown) => void) | null | undefined;
  readonly stats: ViewerStats;
  /** Class and payload size of the message FoxgloveServer is about to send (set by the server). */
  pending: { cls: SendClass; bytes: number } | undefined;
  private droppingFragment = false;
  private lastStatusMs = -Infinity;
  private droppedSinceStatus = 0;
  /** This viewer's subscriptions: subscription id → channel id, and the channels. */
  private readonly subscriptions = new Map<number, number>();
  private readonly channels = new Set<number>();

  constructor(
    readonly ws: WebSocket,
    readonly limit: number,
    private readonly onDrop: (cls: SendClass) => void,
    private readonly onOverflow: (v: ViewerSocket) => void,
  ) {
    this.stats = {
      name: '',
      sent: 0,
      dropped: 0,
      droppedByClass: { plan: 0, tracks: 0, context: 0, pointCloud: 0 },
      maxBufferedBytes: 0,
      statusSent: 0,
    };
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? undefined : String(data);
      if (text !== undefined) this.noteSubscriptions(text);
      this.onmessage?.({ data: text ?? toArrayBuffer(data) });
    });
    ws.on('close', (code, reason) => this.onclose?.({ code, reason: String(reason), wasClean: true }));
    ws.on('error', (err) => this.onerror?.(err));
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  /** True when this viewer subscribed to channel `id`. */
  subscribed(id: number): boolean {
    return this.channels.has(id);
  }

  /** Follows the viewer's subscribe/unsubscribe requests (FoxgloveServer keeps its own copy private). */
  private noteSubscriptions(text: string): void {
    let m: { op?: unknown; subscriptions?: unknown; subscriptionIds?: unknown };
    try {
      m = JSON.parse(text) as typeof m;
    } catch {
      return; // FoxgloveServer reports it
    }
    if (m.op === 'subscribe' && Array.isArray(m.subscriptions)) {
      for (const s of m.subscriptions as { id?: unknown; channelId?: unknown }[]) {
        if (typeof s?.id !== 'number' || typeof s.channelId !== 'number') continue;
        if (this.subscriptions.has(s.id) || this.channels.has(s.channelId)) continue; // refused by the server too
        this.subscriptions.set(s.id, s.channelId);
        this.channels.add(s.channelId);
      }
    } else if (m.op === 'unsubscribe' && Array.isArray(m.subscriptionIds)) {
      for (const id of m.subscriptionIds as unknown[]) {
        const ch = typeof id === 'number' ? this.subscriptions.get(id) : undefined;
        if (ch === undefined) continue;
        this.subscriptions.delete(id as number);
        this.channels.delete(ch);
      }
    }
  }

  /** True when a message of `cls` and `bytes` fits in this viewer's budget now. */
  fits(cls: SendClass, bytes: number): boolean {
    const room = this.limit - Math.min(CONTROL_RESERVE_BYTES, this.limit / 8);
    return this.ws.bufferedAmount + FRAME_HEADER_BYTES + bytes <= SEND_CLASSES[cls].share * room;
  }

  send(data: string | ArrayBuffer | ArrayBufferView, options?: { fin?: boolean }): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    const buffered = this.ws.bufferedAmount;
    if (buffered > this.stats.maxBufferedBytes) this.stats.maxBufferedBytes = buffered;
    if (typeof data === 'string') {
      // Control messages (server info, advertisements, status) are small and always sent.
      this.ws.send(data);
      this.checkOverflow();
      return;
    }
    const first = !this.droppingFragment && options?.fin === false;
    if (options?.fin === true && this.droppingFragment) {
      this.droppingFragment = false; // the payload fragment of a dropped message
      return;
    }
    const pending = this.pending;
    if (pending && (first || options === undefined) && !this.fits(pending.cls, pending.bytes)) {
      if (first) this.droppingFragment = true;
      this.drop(pending.cls);
      return;
    }
    if (first || options === undefined) this.stats.sent++;
    this.ws.send(data, { binary: true, fin: options?.fin ?? true });
    this.checkOverflow();
  }

  /** Counts a message this viewer could not take (also when it was never encoded). */
  drop(cls: SendClass): void {
    this.stats.dropped++;
    this.stats.droppedByClass[cls]++;
    this.droppedSinceStatus++;
    this.onDrop(cls);
  }

  /** The status text for drops so far, or undefined when nothing is due (rate-limited). */
  statusDue(nowMs: number): string | undefined {
    if (this.droppedSinceStatus === 0 || nowMs - this.lastStatusMs < STATUS_PERIOD_MS) return undefined;
    this.lastStatusMs = nowMs;
    this.droppedSinceStatus = 0;
    this.stats.statusSent++;
    const c = this.stats.droppedByClass;
    return (
      `Send buffer limit reached: smi-fusion dropped ${this.stats.dropped} messages for this viewer ` +
      `(${c.pointCloud} point clouds, ${c.context} ground truth/latency, ${c.tracks} tracks/transforms, ${c.plan} plans) ` +
      `because it reads slower than they are produced; send buffer limit ${(this.limit / 2 ** 20).toFixed(1)} MiB`
    );
  }

  private checkOverflow(): void {
    if (this.ws.bufferedAmount > HARD_LIMIT_FACTOR * this.limit) this.onOverflow(this);
  }

  close(): void {
    this.ws.close();
  }
}

function toArrayBuffer(data: unknown): ArrayBuffer {
  if (data instanceof ArrayBuffer) return data;
  const b = Array.isArray(data) ? Buffer.concat(data as Buffer[]) : (data as Buffer);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

const decoder = new TextDecoder();

export class FoxgloveLiveServer {
  private readonly wss: WebSocketServer;
  private readonly server: InstanceType<typeof FoxgloveServer>;
  private readonly channels = new Map<string, LiveChannel>();
  private readonly byId = new Map<number, LiveChannel>();
  private readonly viewerSockets = new Set<ViewerSocket>();
  private readonly lidarIds: Set<string>;
  private readonly limit: number;
  private readonly dropped: Counter<'topic'> | undefined;
  private readonly sent: Counter<'topic'> | undefined;
  private lastCalibrationMs = -Infinity;
  private calibrationTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /**
   * Cheap checks for the service's taps, updated on (un)subscribe: some viewer wants views made
   * from sensor input (point clouds, odometry) / from outputs (tracks, plan, latency).
   */
  sensorViews = false;
  outputViews = false;
  /** Point clouds encoded (a viewer had room), and offered with nobody able to take them. */
  readonly counts = { pointCloudsEncoded: 0, pointCloudsSkipped: 0, offered: 0 };
  url = '';

  private constructor(private readonly o: FoxgloveLiveOptions) {
    this.limit = o.sendBufferBytes ?? 16 * 2 ** 20;
    this.lidarIds = new Set(o.sensors.filter((s) => s.kind === 'lidar').map((s) => s.id));
    this.server = new FoxgloveServer({ name: o.name ?? 'smi-fusion', capabilities: [] });
    this.wss = new WebSocketServer({
      host: o.host,
      port: o.port,
      perMessageDeflate: false, // compression would queue inside ws, out of bufferedAmount's sight
      handleProtocols: (protocols) => this.server.handleProtocols(protocols),
    });
    if (o.registry) {
      const labels = ['topic'] as const;
      this.dropped = new Counter({
        name: 'smi_foxglove_dropped_total',
        help: 'Live-view messages not sent to a viewer because its send buffer was over its class share, per topic',
        labelNames: labels,
        registers: [o.registry],
      });
      this.sent = new Counter({
        name: 'smi_foxglove_sent_total',
        help: 'Live-view messages sent to viewers, per topic (one per viewer)',
        labelNames: labels,
        registers: [o.registry],
      });
      const viewers = this.viewerSockets;
      new Gauge({
        name: 'smi_foxglove_viewers',
        help: 'Viewers connected to the Foxglove live view',
        registers: [o.registry],
        collect() {
          this.set(viewers.size);
        },
      });
    }
    this.advertise(FOXGLOVE_TOPICS.tracks, FOXGLOVE_SCHEMAS.sceneUpdate, 'tracks');
    this.advertise(LIVE_TOPICS.plan, FOXGLOVE_SCHEMAS.sceneUpdate, 'plan');
    this.advertise(LIVE_TOPICS.planStatus, FOXGLOVE_SCHEMAS.planStatus, 'plan');
    this.advertise(FOXGLOVE_TOPICS.calibration, FOXGLOVE_SCHEMAS.frameTransforms, 'tracks');
    this.advertise(FOXGLOVE_TOPICS.odometry, FOXGLOVE_SCHEMAS.frameTransform, 'tracks');
    this.advertise(FOXGLOVE_TOPICS.groundTruth, FOXGLOVE_SCHEMAS.sceneUpdate, 'context');
    this.advertise(LIVE_TOPICS.latency, FOXGLOVE_SCHEMAS.stageLatency, 'context');
    for (const id of this.lidarIds)
      this.advertise(`${FOXGLOVE_TOPICS.lidarPrefix}${id}`, FOXGLOVE_SCHEMAS.pointCloud, 'pointCloud');
    this.server.on('subscribe', (id) => {
      const ch = this.byId.get(id);
      if (!ch) return;
      ch.subscribed = true;
      if (ch.topic === FOXGLOVE_TOPICS.calibration) this.lastCalibrationMs = -Infinity;
      this.updateViews();
    });
    this.server.on('unsubscribe', (id) => {
      const ch = this.byId.get(id);
      if (ch) ch.subscribed = false;
      this.updateViews();
    });
    this.server.on('error', (err) => o.log.warn({ err }, 'foxglove live view: bad message from a viewer'));
    this.wss.on('connection', (ws, req) =>
      this.accept(ws, `${req.socket.remoteAddress}:${req.socket.remotePort}`),
    );
  }

  /** Starts listening; resolves once the port is bound (or rejects naming host and port). */
  static async start(options: FoxgloveLiveOptions): Promise<FoxgloveLiveServer> {
    const s = new FoxgloveLiveServer(options);
    await new Promise<void>((resolve, reject) => {
      s.wss.once('listening', resolve);
      s.wss.once('error', (err) =>
        reject(
          new Error(`foxglove live view: cannot listen on ${options.host}:${options.port}: ${err.message}`),
        ),
      );
    });
    const addr = s.wss.address() as AddressInfo;
    s.url = `ws://${options.host.includes(':') ? `[${options.host}]` : options.host}:${addr.port}`;
    // Calibration is static; repeat it so late joiners and a cleared view get the transform tree.
    s.calibrationTimer = setInterval(
      () => s.offerCalibration(process.hrtime.bigint()),
      CALIBRATION_PERIOD_MS,
    );
    s.calibrationTimer.unref();
    options.log.info({ url: s.url, sendBufferBytes: s.limit }, 'foxglove live view listening');
    return s;
  }

  private advertise(topic: string, schema: FoxgloveSchema, cls: SendClass): void {
    const id = this.server.addChannel({
      topic,
      encoding: schema.messageEncoding,
      schemaName: schema.name,
      schema: decoder.decode(schema.data),
      schemaEncoding: schema.encoding,
    });
    const ch: LiveChannel = { id, topic, cls, subscribed: false };
    this.channels.set(topic, ch);
    this.byId.set(id, ch);
  }

  private accept(ws: WebSocket, name: string): void {
    if (this.closed) return ws.close();
    const v = new ViewerSocket(
      ws,
      this.limit,
      () => {},
      (over) => {
        this.o.log.warn(
          { viewer: over.stats.name, bufferedBytes: over.ws.bufferedAmount },
          'foxglove live view: viewer queue over the hard limit; disconnecting it',
        );
        over.ws.terminate();
      },
    );
    v.stats.name = name;
    this.viewerSockets.add(v);
    ws.on('close', () => this.viewerSockets.delete(v));
    this.server.handleConnection(v, name);
    this.o.log.info({ viewer: name }, 'foxglove live view: viewer connected');
  }

  private readonly lastThinned = new Map<string, bigint>();

  /** True when `topic`'s last message is THIN_PERIOD_NS of stamp ago (or the stamp went back: a loop). */
  private due(topic: string, stampNs: bigint): boolean {
    const last = this.lastThinned.get(topic);
    if (last !== undefined && stampNs >= last && stampNs - last < THIN_PERIOD_NS) return false;
    this.lastThinned.set(topic, stampNs);
    return true;
  }

  private updateViews(): void {
    const w = (t: string) => this.wants(t);
    this.sensorViews =
      w(FOXGLOVE_TOPICS.odometry) || [...this.lidarIds].some((id) => this.wantsPointCloud(id));
    this.outputViews =
      w(FOXGLOVE_TOPICS.tracks) || w(LIVE_TOPICS.plan) || w(LIVE_TOPICS.planStatus) || w(LIVE_TOPICS.latency);
  }

  /** Per-viewer counts (sent, dropped by class, largest queue seen). */
  viewers(): ViewerStats[] {
    return [...this.viewerSockets].map((v) => ({
      ...v.stats,
      droppedByClass: { ...v.stats.droppedByClass },
    }));
  }

  /** True when some viewer subscribed to `topic`. */
  wants(topic: string): boolean {
    return this.channels.get(topic)?.subscribed === true;
  }

  /** True when some viewer subscribed to point clouds of lidar `sensorId`. */
  wantsPointCloud(sensorId: string): boolean {
    return this.wants(`${FOXGLOVE_TOPICS.lidarPrefix}${sensorId}`);
  }

  /**
   * Sends `encode()`'s bytes on `topic` to every subscribed viewer with room for `approxBytes` in
   * the channel's class; `encode` runs only if at least one has room. Viewers without room get a
   * counted drop. Returns the number of viewers it went to.
   */
  private publish(topic: string, stampNs: bigint, approxBytes: number, encode: () => Uint8Array): number {
    this.counts.offered++;
    const ch = this.channels.get(topic);
    if (!ch?.subscribed || this.closed) return 0;
    let room = false;
    let subscribers = 0;
    for (const v of this.viewerSockets) {
      if (!v.subscribed(ch.id)) continue;
      subscribers++;
      if (v.fits(ch.cls, approxBytes)) room = true;
    }
    if (!room) {
      // Nobody can take it: count the drop per subscribed viewer without encoding anything.
      for (const v of this.viewerSockets) if (v.subscribed(ch.id)) v.drop(ch.cls);
      if (subscribers > 0) this.dropped?.inc({ topic }, subscribers);
      this.reportDrops();
      return 0;
    }
    const payload = encode();
    // One sendMessage reaches every subscribed viewer; each checks its own budget first.
    const before = this.totals({ cls: ch.cls, bytes: payload.byteLength });
    this.server.sendMessage(ch.id, stampNs, payload);
    const after = this.totals(undefined);
    const delivered = after.sent - before.sent;
    if (delivered > 0) this.sent?.inc({ topic }, delivered);
    if (after.dropped > before.dropped) this.dropped?.inc({ topic }, after.dropped - before.dropped);
    this.reportDrops();
    return delivered;
  }

  /** Sets every viewer's pending message and sums their sent and dropped counts. */
  private totals(pending: ViewerSocket['pending']): { sent: number; dropped: number } {
    let sent = 0;
    let dropped = 0;
    for (const v of this.viewerSockets) {
      v.pending = pending;
      sent += v.stats.sent;
      dropped += v.stats.dropped;
    }
    return { sent, dropped };
  }

  /** Status messages to viewers that dropped something since their last one (rate-limited). */
  private reportDrops(): void {
    const now = performance.now();
    for (const v of this.viewerSockets) {
      const message = v.statusDue(now);
      if (message)
        this.server.sendStatus({ level: StatusLevel.WARNING, message, id: 'smi-fusion/send-buffer' }, v);
    }
  }

  /**
   * A lidar scan: `points` holds `count` x, y, z, intensity float32 records in the lidar's frame at
   * `stampNs`. It may be a view into shared memory: it is encoded (copied) before this returns, or
   * not at all when no viewer wants it or has room.
   */
  offerPointCloud(sensorId: string, stampNs: bigint, points: Float32Array, count: number): void {
    if (!this.lidarIds.has(sensorId)) return;
    const bytes = count * 16;
    const sent = this.publish(`${FOXGLOVE_TOPICS.lidarPrefix}${sensorId}`, stampNs, bytes + 200, () => {
      this.counts.pointCloudsEncoded++;
      return encodePointCloud(sensorId, stampNs, new Uint8Array(points.buffer, points.byteOffset, bytes));
    });
    if (sent === 0 && this.wantsPointCloud(sensorId)) this.counts.pointCloudsSkipped++;
  }

  /** A tracks list as published on out/tracks: its decoded header and payload bytes. */
  offerTracks(header: { stampNs: bigint; count: number }, payload: Uint8Array): void {
    const count = Math.min(header.count, Math.floor(payload.byteLength / TRACKS_LAYOUT.stride));
    this.publish(FOXGLOVE_TOPICS.tracks, header.stampNs, 400 + count * 600, () =>
      tracksScene(header.stampNs, floats(payload), count),
    );
  }

  /** A plan as published on out/plan: its decoded header and payload bytes (the trajectory). */
  offerPlan(
    header: {
      stampNs: bigint;
      seq: number;
      count: number;
      decision: string;
      leadId: number;
      targetAccel: number;
      ttc: number;
    },
    payload: Uint8Array,
  ): void {
    const count = Math.min(header.count, Math.floor(payload.byteLength / PLAN_LAYOUT.stride));
    this.publish(LIVE_TOPICS.planStatus, header.stampNs, 300, () =>
      planStatus(header.stampNs, header, count),
    );
    this.publish(LIVE_TOPICS.plan, header.stampNs, 600 + count * 60, () =>
      planScene(header.stampNs, header, floats(payload), count),
    );
  }

  /** Ground truth: `count` records of the TRUTH layout (drive-format.ts) in base_link (thinned to THIN_PERIOD_NS). */
  offerGroundTruth(stampNs: bigint, truth: Float32Array, count: number): void {
    if (!this.due(FOXGLOVE_TOPICS.groundTruth, stampNs)) return;
    this.publish(FOXGLOVE_TOPICS.groundTruth, stampNs, 400 + count * 600, () =>
      groundTruthScene(stampNs, truth, count),
    );
  }

  /** odom → base_link from an ego odometry record (thinned to THIN_PERIOD_NS). */
  offerOdometry(stampNs: bigint, x: number, y: number, yaw: number): void {
    if (!this.due(FOXGLOVE_TOPICS.odometry, stampNs)) return;
    this.publish(FOXGLOVE_TOPICS.odometry, stampNs, 300, () => odometryTransform(stampNs, x, y, yaw));
  }

  /** base_link → each sensor frame (the calibration); sent at most once a second unless newly subscribed. */
  offerCalibration(stampNs: bigint): void {
    const now = performance.now();
    if (now - this.lastCalibrationMs < CALIBRATION_PERIOD_MS || !this.wants(FOXGLOVE_TOPICS.calibration))
      return;
    this.lastCalibrationMs = now;
    this.publish(FOXGLOVE_TOPICS.calibration, stampNs, 300 * this.o.sensors.length, () =>
      calibrationTransforms(stampNs, this.o.sensors),
    );
  }

  /** Per-stage latencies, ms. */
  offerLatencies(stampNs: bigint, latencies: StageLatencies): void {
    this.publish(LIVE_TOPICS.latency, stampNs, 200, () => stageLatency(stampNs, latencies));
  }

  /** Disconnects every viewer and stops listening (bounded by `timeoutMs`). */
  async close(timeoutMs = 500): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.calibrationTimer) clearInterval(this.calibrationTimer);
    for (const v of this.viewerSockets) v.ws.terminate();
    await Promise.race([
      new Promise<void>((resolve) => this.wss.close(() => resolve())),
      new Promise((r) => setTimeout(r, timeoutMs)),
    ]);
  }
}
