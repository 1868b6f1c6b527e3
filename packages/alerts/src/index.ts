export * from './policy.js';
export * from './score-input.js';
export * from './observation-frequency.js';
export * from './budget.js';
export * from './alert-state.js';
export * from './machine.js';
export * from './engine.js';
export * from './alert-events.js';
export * from './state-codec.js';
// The replay (src/replay/, npm run alerts:replay) is not exported: it loads @ehr/training,
// which the alerting service must not load at run time.
