/**
 * Per-sensor health from ingest's shared counters, on the main thread: whether each sensor's
 * stream is flowing, has gone silent, or has just restarted (its seq began again, or its clock
 * jumped and ingest followed it). Read-only over the counters, so it never changes what ingest
 * accepts: a degraded sensor is reported, not refused, and the others are fused as before.
 */
import type { Logger } from 'pino';
import type { SensorConfig } from '../wire/rig.js';
import { SENSOR_EVENTS, type IngestCounterBlock } from './ingest-counters.js';

/** Values of the gauge smi_sensor_state{sensor}. */
export const SENSOR_STATES = ['ok', 'silent', 'restarted', 'waiting'] as const;
export type SensorState = (typeof SENSOR_STATES)[number];

/** How long after a restart or clock jump a sensor reads `restarted` before `ok` again. */
export const RESTARTED_FOR_MS = 1000;

/** Silent = no message accepted for this many sensor periods (and at least SILENT_MIN_MS). */
export const SILENT_AFTER_PERIODS = 5;
export const SILENT_MIN_MS = 250;

export class SensorHealthMonitor {
  private readonly lastReceived: Uint32Array;
  private readonly lastEvents: Uint32Array;
  private readonly seenAtMs: Float64Array;
  private readonly eventAtMs: Float64Array;
  private readonly silentAfterMs: Float64Array;
  readonly states: SensorState[];

  constructor(
    private readonly sensors: readonly SensorConfig[],
    private readonly counters: IngestCounterBlock,
    private readonly log: Logger,
    private readonly onChange: (sensor: number, state: SensorState) => void = () => {},
  ) {
    const n = sensors.length;
    this.lastReceived = new Uint32Array(n);
    this.lastEvents = new Uint32Array(n);
    this.seenAtMs = new Float64Array(n).fill(-Infinity);
    this.eventAtMs = new Float64Array(n).fill(-Infinity);
    this.silentAfterMs = Float64Array.from(sensors, (s) =>
      Math.max(SILENT_MIN_MS, (SILENT_AFTER_PERIODS * 1000) / Math.max(s.rateHz, 1e-3)),
    );
    this.states = sensors.map(() => 'waiting');
  }

  /** Re-reads the counters at `nowMs` (a monotonic ms clock); logs and reports every change of state. */
  update(nowMs: number): void {
    for (let i = 0; i < this.sensors.length; i++) {
      const received = this.counters.receivedOf(i);
      if (received !== this.lastReceived[i]) {
        this.lastReceived[i] = received;
        this.seenAtMs[i] = nowMs;
      }
      let events = 0;
      for (const e of SENSOR_EVENTS) events += this.counters.eventsOf(i, e);
      if (events !== this.lastEvents[i]) {
        this.lastEvents[i] = events;
        this.eventAtMs[i] = nowMs;
      }
      const state: SensorState =
        this.seenAtMs[i] === -Infinity
          ? 'waiting'
          : nowMs - this.seenAtMs[i]! > this.silentAfterMs[i]!
            ? 'silent'
            : nowMs - this.eventAtMs[i]! < RESTARTED_FOR_MS
              ? 'restarted'
              : 'ok';
      const was = this.states[i]!;
      if (state === was) continue;
      this.states[i] = state;
      const fields = { sensor: this.sensors[i]!.id, state, was };
      if (state === 'silent') {
        this.log.warn(
          { ...fields, silentMs: Math.round(nowMs - this.seenAtMs[i]!) },
          'sensor silent: degraded, fusing the others',
        );
      } else if (state === 'restarted') {
        this.log.warn(fields, 'sensor restarted');
      } else if (state === 'ok' && was !== 'waiting') {
        this.log.info(fields, 'sensor healthy again');
      }
      this.onChange(i, state);
    }
  }
}
