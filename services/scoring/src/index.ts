export * from './config.js';
export * from './app.js';
export * from './model-holder.js';
export * from './scorer.js';
export * from './drift.js';
export * from './processor.js';
export * from './service.js';
export * from './manifest.js';
