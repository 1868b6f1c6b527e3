// The scoring service as a process: env → config → real bus → listen → graceful shutdown.
import { createBus } from '@ehr/bus';
import { createLogger, startAndListen } from '@ehr/runtime';
import { loadConfig } from './config.js';
import { createScoringService } from './service.js';

const config = loadConfig(process.env);
const logger = createLogger({ service: 'scoring', level: config.LOG_LEVEL });
const bus = createBus(config, { clientId: 'scoring-service', logger });
const service = createScoringService({ config, logger, bus });
const { url } = await startAndListen(service, {
  service: 'scoring',
  host: config.HOST,
  port: config.PORT,
  logger,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  exitOnSignals: true,
});
logger.info({ url, bus: bus.kind }, `scoring ready: ${url}/health/ready`);
