export { findRepoRoot, isServiceName, PIPELINE_SERVICES, SERVICE_NAMES, SERVICES, serviceInfo, type ServiceInfo, type ServiceName } from './services.js';
export { instancesOf, isolatedEnv, startStack, type Env, type ExitReport, type FlowStop, type InstanceName, type Readiness, type Stack, type StackInstance, type StackLogEntry, type StackOptions } from './stack.js';
export { kafkaBacklog, type StackBacklog } from './drain.js';
export { formatLogLine, formatValue, levelName, parseLogRecord, wantsColors, type LogFormatOptions, type LogRecord } from './log-format.js';
export {
  buildOf,
  checkComposeFile,
  mergeDocuments,
  checkReferences,
  containerEnv,
  dependsOn,
  environmentOf,
  hasHealthcheck,
  loadCompose,
  validateSchema,
  type ComposeDocument,
  type ComposeProblem,
  type ComposeService,
  type LoadedCompose,
} from './compose/check.js';
export { interpolate, interpolateDocument, InterpolationError } from './compose/interpolate.js';
export { parsePortSpec, publishedPorts, type PortSpec } from './compose/ports.js';
export * from './dockerfile.js';
export { prepareContext, rehearseImage, type Rehearsal, type RehearsalOptions, type RehearsalStep } from './rehearsal.js';
export { ensureComposeTokens, generateTokens, newToken, prepareStackTokens, serviceTokenEnv, serviceTokenVariables, TOKEN_VARIABLES, writeTokenFile, type TokenVariable, type Tokens } from './tokens.js';
