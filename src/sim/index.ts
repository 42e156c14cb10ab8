/** The deterministic drive simulator: scenarios, sensor models, ground truth, closed loop. */
export {
  DriveSimulator,
  createSimMessage,
  type SimMessage,
  type DriveSimulatorOptions,
} from './drive-simulator.js';
export { GT, EGO_MAX_ACCEL, EGO_MAX_DECEL, type Collision } from './world.js';
export {
  loadScenarioFile,
  parseScenario,
  SCENARIO_API_VERSION,
  SCENARIO_SCHEMA,
  type ScenarioLoadOptions,
} from './scenario.js';
export type * from './scenario-types.js';
export { ACTOR_CLASSES, ACTOR_CLASS_INFO, EGO_BOX, type ActorClass } from './actor-classes.js';
export { Prng } from './prng.js';
export { IMAGE_WIDTH, IMAGE_HEIGHT, cameraIntrinsics } from './camera.js';
export { DEFAULT_LIDAR } from './lidar.js';
