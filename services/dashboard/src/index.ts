export * from './config.js';
export * from './app.js';
export * from './health.js';
export * from './service.js';
export * from './stream.js';
export * from './vitals.js';
export * from './ward.js';
export * from './manifest.js';
