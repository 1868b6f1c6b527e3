export * from './config.js';
export * from './app.js';
export * from './publisher.js';
export * from './service.js';
