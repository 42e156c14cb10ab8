import { ObjectClass } from '../wire/layouts.js';

/**
 * Actor classes a scenario may place; their ids are those of `ObjectClass` on the wire. A
 * `barrier` (a guard-rail segment) is static roadside structure, not a road user: class
 * `unknown`, and smart cameras do not report it.
 */
export const ACTOR_CLASSES = ['car', 'truck', 'pedestrian', 'cyclist', 'barrier'] as const;
export type ActorClass = (typeof ACTOR_CLASSES)[number];

/** Physical and sensor-facing properties of a class of road user. */
export interface ActorClassInfo {
  classId: number;
  /** Default box, m: length along the heading, width, height. */
  length: number;
  width: number;
  height: number;
  /** Lidar reflectivity 0..1 at normal incidence (paint, clothing). */
  reflectivity: number;
  /** Mean radar cross-section at 77 GHz, dBsm. */
  rcsDbsm: number;
  /** Whether a smart camera's object list reports it (road users only). */
  cameraReports: boolean;
}

/**
 * Typical sizes (a mid-size car, a rigid truck at the EU width limit, Euro NCAP-like adult
 * pedestrian and cyclist targets) and typical automotive-radar RCS values.
 */
export const ACTOR_CLASS_INFO: Readonly<Record<ActorClass, ActorClassInfo>> = {
  car: {
    classId: ObjectClass.car,
    length: 4.6,
    width: 1.85,
    height: 1.5,
    reflectivity: 0.35,
    rcsDbsm: 10,
    cameraReports: true,
  },
  truck: {
    classId: ObjectClass.truck,
    length: 12,
    width: 2.55,
    height: 3.8,
    reflectivity: 0.45,
    rcsDbsm: 22,
    cameraReports: true,
  },
  pedestrian: {
    classId: ObjectClass.pedestrian,
    length: 0.4,
    width: 0.6,
    height: 1.8,
    reflectivity: 0.2,
    rcsDbsm: -5,
    cameraReports: true,
  },
  cyclist: {
    classId: ObjectClass.cyclist,
    length: 1.8,
    width: 0.6,
    height: 1.75,
    reflectivity: 0.3,
    rcsDbsm: 2,
    cameraReports: true,
  },
  // A 4 m W-beam guard-rail segment: galvanised steel, a strong but mostly specular radar target.
  barrier: {
    classId: ObjectClass.unknown,
    length: 4,
    width: 0.3,
    height: 0.8,
    reflectivity: 0.6,
    rcsDbsm: 5,
    cameraReports: false,
  },
};

/** Class info by wire class id (index), for hot loops that only hold the id. */
export const INFO_BY_CLASS_ID: readonly ActorClassInfo[] = (() => {
  const out: ActorClassInfo[] = [];
  for (const info of Object.values(ACTOR_CLASS_INFO)) out[info.classId] = info;
  return out;
})();

/**
 * The simulated ego vehicle (the rig's mid-size car, 4.7 m x 1.9 m): its box relative to
 * base_link, whose origin is the rear axle centre on the ground. The front bumper is at the
 * front radar (x = 3.7 m), the rear bumper at the rear camera (x = -1.0 m).
 */
export const EGO_BOX = { rear: -1.0, front: 3.7, halfWidth: 0.95, height: 1.5 } as const;
