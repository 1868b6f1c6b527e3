export * from './types.js';
export * from './partitioner.js';
export * from './memory-bus.js';
export * from './kafka-bus.js';
export * from './env.js';
export * from './service.js';
export * from './isolation.js';
export * from './progress.js';
