/**
 * From a pipeline spec to what runs where: pool channels (who reads each, with which access
 * pattern), stage indices, and the threads (the tracker's, the lidar thread, the shared pool).
 * Pure: no threads are started here.
 */
import { availableParallelism } from 'node:os';
import type { ChannelGeometry } from '../../pool/index.js';
import { channelNames, type PipelineSpec } from '../spec/pipeline-spec.js';
import { CLASS_RANK, type StageSpec } from '../spec/stage-spec.js';
import type { InputChannelInfo, InputKind, StageInfo } from '../../workers/stage-thread-protocol.js';

export interface ChannelPlan {
  index: number;
  name: string;
  kind: InputKind;
  /** The sensor the data comes from (boxes: their lidar). */
  sensorIndex: number;
  rateHz: number;
  external: boolean;
  /** Stage that consumes the channel, or -1. */
  consumer: number;
  access: 'sequential' | 'latest';
}

export interface StageGraph {
  stages: (StageSpec & { index: number })[];
  channels: ChannelPlan[];
  /** Stages run on the tracker's thread (tracker, camera-fusion, planner). */
  trackerStages: number[];
  /** The lidar-extraction stage, and where it runs. */
  lidarStage: number;
  lidarPlacement: 'dedicated' | 'shared' | 'none';
  plannerStage: number;
  trackerStage: number;
  /** Doorbell / sample ring index per thread: the tracker's, the lidar thread's, the main thread's. */
  threads: { tracker: number; lidar: number; main: number; count: number };
}

export function buildStageGraph(spec: PipelineSpec): StageGraph {
  const names = channelNames(spec);
  const stages = spec.stages.map((s, index) => ({ ...s, index }));
  const baseline = spec.scheduler.mode === 'trigger-cycles';
  const find = (type: string) => stages.find((s) => s.type === type);
  const tracker = find('tracker');
  if (!tracker) throw new Error(`pipeline '${spec.name}': no tracker stage`);
  const planner = find('planner');
  if (!planner) throw new Error(`pipeline '${spec.name}': no planner stage`);
  const lidar = find('lidar-extraction');
  const consumer = new Int32Array(names.length).fill(-1);
  const access: ('sequential' | 'latest')[] = names.map(() => 'sequential');
  for (const s of stages) {
    for (const input of s.inputs) {
      const c = names.indexOf(input.channel);
      if (c < 0) continue;
      consumer[c] = s.index;
      access[c] = input.access;
    }
  }
  const channels: ChannelPlan[] = names.map((name, index) => {
    const sensor = spec.sensors[index];
    const derived = sensor ? undefined : spec.derivedChannels[index - spec.sensors.length]!;
    const sensorIndex = sensor ? index : spec.sensors.findIndex((s) => s.id === derived!.source);
    return {
      index,
      name,
      kind: sensor ? sensor.kind : 'boxes',
      sensorIndex,
      rateHz: spec.sensors[sensorIndex]!.rateHz,
      external: spec.channels[name]!.producer === 'external',
      consumer: consumer[index]!,
      access: access[index]!,
    };
  });
  const onTracker = stages.filter((s) => s.index === tracker.index || s.placement === tracker.name);
  const lidarPlacement = baseline || !lidar ? 'none' : lidar.placement === 'shared' ? 'shared' : 'dedicated';
  const hasLidarThread = lidarPlacement === 'dedicated';
  return {
    stages,
    channels,
    trackerStages: onTracker.map((s) => s.index),
    lidarStage: lidar?.index ?? -1,
    lidarPlacement,
    plannerStage: planner.index,
    trackerStage: tracker.index,
    threads: hasLidarThread
      ? { tracker: 0, lidar: 1, main: 2, count: 3 }
      : { tracker: 0, lidar: -1, main: 1, count: 2 },
  };
}

/** The pool's channels: one reader entry reserved per consumed channel, with its access pattern. */
export function poolGeometry(spec: PipelineSpec, graph: StageGraph): ChannelGeometry[] {
  return graph.channels.map((c) => ({
    name: c.name,
    slotCount: spec.channels[c.name]!.slots,
    slotBytes: spec.channels[c.name]!.slotBytes,
    readerCount: c.consumer >= 0 ? 1 : 0,
    access: c.access,
    whenFull: spec.channels[c.name]!.whenFull,
  }));
}

/** What a stage thread needs to know of a stage. */
export function stageInfo(s: StageSpec & { index: number }): StageInfo {
  return {
    index: s.index,
    name: s.name,
    type: s.type,
    classRank: CLASS_RANK[s.class],
    budgetNs: s.budgetMs * 1e6,
  };
}

/** The inputs of the stages in `stageIndices`, for their thread. */
export function inputsOf(graph: StageGraph, stageIndices: readonly number[]): InputChannelInfo[] {
  return graph.channels
    .filter((c) => c.consumer >= 0 && stageIndices.includes(c.consumer))
    .map((c) => ({
      channel: c.index,
      name: c.name,
      kind: c.kind,
      sensorIndex: c.sensorIndex,
      access: c.access,
      rateHz: c.rateHz,
      external: c.external,
      stage: c.consumer,
    }));
}

/** Cores on this machine, for the thread-count warning. */
export const cores = (): number => availableParallelism();
