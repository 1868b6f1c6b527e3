export * from './accounting.js';
export * from './inputs.js';
export * from './log-safety.js';
export * from './model.js';
export * from './observer.js';
export * from './pipeline.js';
export * from './procstat.js';
export * from './warehouse.js';
