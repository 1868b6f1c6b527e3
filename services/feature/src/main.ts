// The feature service as a process: env → config → real bus → listen → graceful shutdown.
import { createBus } from '@ehr/bus';
import { createLogger, startAndListen } from '@ehr/runtime';
import { loadConfig } from './config.js';
import { createFeatureService } from './service.js';

const config = loadConfig(process.env);
const logger = createLogger({ service: 'feature', level: config.LOG_LEVEL });
const bus = createBus(config, { clientId: 'feature-service', logger });
const service = createFeatureService({ config, logger, bus });
const { url } = await startAndListen(service, {
  service: 'feature',
  host: config.HOST,
  port: config.PORT,
  logger,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  exitOnSignals: true,
});
logger.info({ url, bus: bus.kind }, `feature ready: ${url}/health/ready`);
