// The model artifact: one schema-versioned JSON document (optionally gzipped) holding the
// forest, its inputs' contract and everything needed to monitor and explain it. Its
// definition is the TypeBox schema in artifact/schema.ts; this module is the public face.
export * from './artifact/schema.js';
export * from './artifact/encoding.js';
export * from './artifact/provenance.js';
export * from './artifact/validate.js';
export * from './artifact/files.js';
export * from './severity-model.js';
export * from './model-card.js';
