export * from './config.js';
export * from './app.js';
export * from './publisher.js';
export * from './service.js';
export * from './stream.js';
export * from './sources.js';
export { FHIR_CONTENT_TYPE } from './fhir-routes.js';
export * from './manifest.js';
