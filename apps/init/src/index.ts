export * from './topics.js';
export * from './model.js';
