export * from './command.js';
export * from './values.js';
export * from './progress.js';
export * from './parse.js';
