export * from './layouts.js';
export * from './header.js';
export * from './mount.js';
