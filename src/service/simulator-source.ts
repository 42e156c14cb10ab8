import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workerFile } from '../workers/worker-file.js';
import type { LidarCastWorkerData, SimControl, SimEvent, SimWorkerData } from '../workers/sim-protocol.js';
import type { SensorConfig } from '../wire/rig.js';
import type { Logger } from '../telemetry/logger.js';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Where scenarios shipped with the package live. */
export const SCENARIO_DIR = resolve(packageRoot, 'fixtures/scenarios');

/** Resolves a scenario name (`cut-in`) or a path (`./my.yaml`) to a file; throws naming both tries. */
export function resolveScenarioFile(nameOrPath: string): string {
  const asPath = resolve(nameOrPath);
  if (/[/\\]|\.ya?ml$/.test(nameOrPath) && existsSync(asPath)) return asPath;
  const named = resolve(SCENARIO_DIR, `${nameOrPath}.yaml`);
  if (existsSync(named)) return named;
  throw new Error(`scenario '${nameOrPath}': no file ${asPath} and no scenario ${named}`);
}

/**
 * The built-in simulated drive as a sensor source: a worker thread generates every sensor's
 * messages in real time and posts them as wire frames, which go through the same ingest stage as
 * ZeroMQ input.
 */
export class SimulatorSource {
  private worker: Worker | undefined;
  private caster: Worker | undefined;
  private ended: Promise<void> | undefined;

  constructor(
    private readonly options: {
      scenario: string;
      rig: readonly SensorConfig[];
      seed?: number;
      loop: boolean;
      closedLoop: boolean;
      /** Also deliver ground truth to `events.onTruth`. */
      groundTruth?: boolean;
      /** Where lidar scans go (the lidar thread); without it they come through `onMessage`. */
      lidarPort?: MessagePort;
    },
    private readonly onMessage: (parts: Uint8Array[], receivedNs: bigint) => void,
    private readonly log: Logger,
    private readonly events: {
      onLoop?: (loop: number) => void;
      onEnd?: () => void;
      /** Ground truth as a wire-format message `[truth/actors, header, payload]`. */
      onTruth?: (parts: Uint8Array[], receivedNs: bigint) => void;
    } = {},
  ) {}

  async start(): Promise<void> {
    const scenarioFile = resolveScenarioFile(this.options.scenario);
    const lidarPort = this.options.lidarPort;
    // Lidar scans are cast on a thread of their own (see lidar-cast-worker.ts).
    const scenes = this.options.rig.some((s) => s.kind === 'lidar') ? new MessageChannel() : undefined;
    if (scenes) {
      const casterData: LidarCastWorkerData = {
        scenarioFile,
        rig: this.options.rig,
        seed: this.options.seed,
        scenes: scenes.port2,
        out: lidarPort,
      };
      const caster = new Worker(workerFile('lidar-cast-worker'), {
        workerData: casterData,
        transferList: lidarPort ? [scenes.port2, lidarPort] : [scenes.port2],
      });
      caster.on('message', (e: SimEvent) => this.onEvent(e));
      caster.on('error', (err) => this.log.error({ err }, 'lidar caster worker crashed'));
      this.caster = caster;
    }
    const data: SimWorkerData = {
      scenarioFile,
      rig: this.options.rig,
      seed: this.options.seed,
      loop: this.options.loop,
      closedLoop: this.options.closedLoop,
      groundTruth: this.options.groundTruth,
      ...(scenes ? { casterPort: scenes.port1 } : { lidarPort }),
    };
    const transferList = scenes ? [scenes.port1] : lidarPort ? [lidarPort] : [];
    const worker = new Worker(workerFile('sim-worker'), { workerData: data, transferList });
    this.worker = worker;
    worker.on('message', (e: SimEvent) => this.onEvent(e));
    this.ended = new Promise((resolveEnd) => worker.once('exit', () => resolveEnd()));
    worker.on('error', (err) => this.log.error({ err }, 'simulator worker crashed'));
    this.log.info(
      { scenario: data.scenarioFile, loop: data.loop, closedLoop: data.closedLoop },
      'simulator source started',
    );
  }

  private onEvent(e: SimEvent): void {
    switch (e.type) {
      case 'frame':
        this.onMessage(e.parts, process.hrtime.bigint());
        break;
      case 'truth':
        this.events.onTruth?.(e.parts, process.hrtime.bigint());
        break;
      case 'loop':
        this.log.info({ loop: e.loop, scenario: this.options.scenario }, 'simulated drive restarted');
        this.events.onLoop?.(e.loop);
        break;
      case 'end':
        this.log.info({ scenario: this.options.scenario }, 'simulated drive ended');
        this.events.onEnd?.();
        break;
      case 'error':
        this.log.error({ scenario: this.options.scenario, error: e.message }, 'simulator failed');
        break;
    }
  }

  /** Commands the simulated ego's acceleration (closed loop); ignored unless closedLoop. */
  setAccel(accel: number | null): void {
    if (this.options.closedLoop)
      this.worker?.postMessage({ type: 'accel', value: accel } satisfies SimControl);
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    worker.postMessage({ type: 'stop' } satisfies SimControl);
    // The workers may be mid-scan; terminate rather than wait for them.
    await Promise.all([worker.terminate(), this.caster?.terminate()]);
    this.caster = undefined;
    await this.ended;
  }
}
