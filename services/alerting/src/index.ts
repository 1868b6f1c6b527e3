export * from './config.js';
export * from './app.js';
export * from './changelog.js';
export * from './processor.js';
export * from './service.js';
export * from './manifest.js';
