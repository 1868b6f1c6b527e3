export * from './policy.js';
export * from './score-input.js';
export * from './observation-frequency.js';
export * from './budget.js';
export * from './alert-state.js';
export * from './machine.js';
export * from './engine.js';
export * from './alert-events.js';
export * from './state-codec.js';
// The policy replay (npm run alerts:replay) is @ehr/alerts-replay: it loads @ehr/training,
// which the scoring and alerting services must not carry.
