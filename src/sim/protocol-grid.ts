/**
 * The closed-loop test grid, after Euro NCAP's AEB car-to-car and VRU protocols, as scenario
 * documents (validated like any scenario file):
 * - CCRs: a stationary car in the ego lane, ego 10–80 km/h, full overlap;
 * - CCRm: a car driving at 20 km/h in the ego lane, ego 30–80 km/h;
 * - CCRb: ego and car at 50 km/h, 12 or 40 m apart; after 3 s the car brakes at 2 or 6 m/s² to
 *   a stop;
 * - CPNA-25: an adult starting 4 m right of the ego's centre line (on the pavement of the
 *   nearside) walks at 5 km/h, timed to meet the ego's front at 25 % of its width from the
 *   right, ego 20–60 km/h;
 * - CPFA-50: an adult starting 6 m left of the ego's centre line (beyond the far kerb of a
 *   two-lane road) walks at 8 km/h, timed to meet the middle of the ego's front, ego 20–60 km/h;
 * - cut-in: on a three-lane road at 90 km/h, a slower car (by 10, 20 or 30 km/h) in the left
 *   lane changes into the ego lane over 2.5 s, starting 10, 20 or 30 m ahead.
 * Timing: the ego would reach the target (holding its speed) 5–7 s into the run, so the tracker
 * has a track well before anything happens; NCAP's speed and path tolerances are not modelled.
 */
import { stringify } from 'yaml';
import { EGO_BOX } from './actor-classes.js';
import { parseScenario, SCENARIO_API_VERSION } from './scenario.js';
import type { Scenario } from './scenario-types.js';

/** One test of the grid. */
export interface ProtocolCase {
  /** e.g. `CCRs-50`, `CPNA-25-40`, `cut-in-20kmh-20m`. */
  id: string;
  family: 'CCRs' | 'CCRm' | 'CCRb' | 'CPNA' | 'CPFA' | 'cut-in';
  /** Whether the target is a car (the ACC gap target applies). */
  carTarget: boolean;
  /** The scenario document (YAML), as `smi-fusion validate` would read it. */
  yaml: string;
  scenario: Scenario;
}

const KMH = 1 / 3.6;
const LANE = 3.5;
/** A pedestrian target's default box (ACTOR_CLASS_INFO.pedestrian) width across its walk. */
const PED_HALF_ALONG_ROAD = 0.2;
const PED_WIDTH = 0.6;
const SIDE_CLEARANCE = 0.3;
/** Where a crossing pedestrian starts, m from the ego's centre line. */
const NEARSIDE_START_M = 4;
const FARSIDE_START_M = 6;

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function make(
  id: string,
  family: ProtocolCase['family'],
  carTarget: boolean,
  description: string,
  spec: Record<string, unknown>,
): ProtocolCase {
  const doc = {
    apiVersion: SCENARIO_API_VERSION,
    kind: 'Scenario',
    metadata: { name: id.toLowerCase(), description },
    spec: { seed: 800, ...spec },
  };
  const yaml = stringify(doc);
  return { id, family, carTarget, yaml, scenario: parseScenario(yaml, `${id.toLowerCase()}.yaml`) };
}

/** Car-to-car rear, stationary target. */
function ccrs(kmh: number): ProtocolCase {
  const v = kmh * KMH;
  const gap = Math.max(40, v * 6);
  return make(`CCRs-${kmh}`, 'CCRs', true, `CCRs: ego ${kmh} km/h, stationary car ${round(gap, 1)} m ahead`, {
    duration: round(Math.min(30, gap / v + 8), 2),
    road: { lanes: 2, laneWidth: LANE },
    ego: { lane: 0, speed: round(v) },
    actors: [{ id: 'target', class: 'car', lane: 0, gap: round(gap, 2), speed: 0 }],
  });
}

/** Car-to-car rear, moving target at 20 km/h. */
function ccrm(kmh: number): ProtocolCase {
  const v = kmh * KMH;
  const vt = 20 * KMH;
  const gap = Math.max(40, (v - vt) * 6 + 20);
  return make(`CCRm-${kmh}`, 'CCRm', true, `CCRm: ego ${kmh} km/h, car at 20 km/h ${round(gap, 1)} m ahead`, {
    duration: round(Math.min(30, gap / (v - vt) + 8), 2),
    road: { lanes: 2, laneWidth: LANE },
    ego: { lane: 0, speed: round(v) },
    actors: [{ id: 'target', class: 'car', lane: 0, gap: round(gap, 2), speed: round(vt) }],
  });
}

/** Car-to-car rear, braking target: both at 50 km/h, `gap` m apart, braking at `decel` after 3 s. */
function ccrb(decel: number, gap: number): ProtocolCase {
  const v = 50 * KMH;
  return make(
    `CCRb-${decel}-${gap}`,
    'CCRb',
    true,
    `CCRb: ego and car at 50 km/h, ${gap} m apart; the car brakes at ${decel} m/s² to a stop after 3 s`,
    {
      duration: round(3 + v / decel + 5, 2),
      road: { lanes: 2, laneWidth: LANE },
      ego: { lane: 0, speed: round(v) },
      actors: [
        {
          id: 'target',
          class: 'car',
          lane: 0,
          gap,
          speed: round(v),
          motion: [{ brake: { at: 3, decel, to: 0 } }],
        },
      ],
    },
  );
}

/**
 * Car-to-pedestrian crossing: `from` kerb, walking at `walkKmh`, timed so that it reaches the
 * point `impact` (share of the ego's width from its right side) as the ego's front, holding its
 * speed, reaches it, `meetS` s into the run.
 */
function crossing(
  family: 'CPNA' | 'CPFA',
  impact: number,
  kmh: number,
  from: 'left' | 'right',
  walkKmh: number,
): ProtocolCase {
  const v = kmh * KMH;
  const walk = walkKmh * KMH;
  const meetS = 5;
  const egoD = -LANE / 2; // lane 0 of two
  const kerb = LANE + SIDE_CLEARANCE + PED_WIDTH / 2; // |d| of a `side` actor
  const startD = from === 'right' ? egoD - NEARSIDE_START_M : egoD + FARSIDE_START_M;
  const impactD = egoD - EGO_BOX.halfWidth + impact * 2 * EGO_BOX.halfWidth;
  const at = meetS - Math.abs(impactD - startD) / walk;
  const pct = Math.round(impact * 100);
  return make(
    `${family}-${pct}-${kmh}`,
    family,
    false,
    `${family}-${pct}: ego ${kmh} km/h; an adult walks at ${walkKmh} km/h from the ${from === 'right' ? 'nearside' : 'farside'} into ${pct} % of the ego's width`,
    {
      duration: meetS + 3,
      road: { lanes: 2, laneWidth: LANE },
      ego: { lane: 0, speed: round(v) },
      actors: [
        {
          id: 'pedestrian',
          class: 'pedestrian',
          side: from,
          offset: round(startD - (from === 'right' ? -kerb : kerb), 3),
          s: round(EGO_BOX.front + v * meetS + PED_HALF_ALONG_ROAD, 3),
          motion: [{ cross: { at: round(at, 3), speed: round(walk, 4) } }],
        },
      ],
    },
  );
}

/** A car `slowerKmh` slower than the ego at 90 km/h cuts in from the left lane, `gap` m ahead when it starts. */
function cutIn(slowerKmh: number, gap: number): ProtocolCase {
  const v = 90 * KMH;
  const vt = v - slowerKmh * KMH;
  const startS = 3;
  return make(
    `cut-in-${slowerKmh}kmh-${gap}m`,
    'cut-in',
    true,
    `cut-in: ego 90 km/h; a car ${slowerKmh} km/h slower changes into the ego lane over 2.5 s from ${gap} m ahead`,
    {
      duration: 14,
      road: { lanes: 3, laneWidth: LANE },
      ego: { lane: 1, speed: round(v) },
      actors: [
        {
          id: 'cutter',
          class: 'car',
          lane: 2,
          gap: round(gap + (v - vt) * startS, 2),
          speed: round(vt),
          motion: [{ laneChange: { at: startS, toLane: 1, duration: 2.5 } }],
        },
      ],
    },
  );
}

/** Every case of the grid, in table order. */
export function protocolGrid(): ProtocolCase[] {
  const out: ProtocolCase[] = [];
  for (let kmh = 10; kmh <= 80; kmh += 10) out.push(ccrs(kmh));
  for (let kmh = 30; kmh <= 80; kmh += 10) out.push(ccrm(kmh));
  for (const decel of [2, 6]) for (const gap of [12, 40]) out.push(ccrb(decel, gap));
  for (let kmh = 20; kmh <= 60; kmh += 10) out.push(crossing('CPNA', 0.25, kmh, 'right', 5));
  for (let kmh = 20; kmh <= 60; kmh += 10) out.push(crossing('CPFA', 0.5, kmh, 'left', 8));
  for (const [slower, gap] of [
    [10, 10],
    [20, 20],
    [30, 30],
  ] as const)
    out.push(cutIn(slower, gap));
  return out;
}
