export * from './config.js';
export * from './logger.js';
export * from './readiness.js';
export * from './metrics.js';
export * from './app.js';
export * from './shutdown.js';
export * from './run.js';
