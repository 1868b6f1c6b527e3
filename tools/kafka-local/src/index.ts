export { startKafkaBroker, logTail, type KafkaBroker, type KafkaBrokerOptions } from './broker.js';
export { ensureJars, findJars, type JarsInfo } from './jars.js';
export { defaultJarsDir, localHome, repoRoot } from './paths.js';
export { freePorts, isPortFree, isPortOpen, LOOPBACK } from './ports.js';
export { isAlive, isKafkaBroker, terminate } from './process.js';
export { newClusterId, serverProperties } from './properties.js';
export { readState, removeState, stateFile, writeState, type BrokerState } from './state.js';
