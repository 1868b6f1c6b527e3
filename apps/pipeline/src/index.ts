export * from './pipeline.js';
export * from './config-reference.js';
export * from './summary.js';
export * from './services.js';
export * from './spool.js';
