export * from './layouts.js';
export * from './header.js';
export * from './mount.js';
export * from './codec.js';
export * from './reject-reason.js';
export * from './header-validator.js';
export * from './payload-checks.js';
