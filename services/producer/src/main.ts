// The producer as a process: env → config → real bus → listen → graceful shutdown.
import { createBus } from '@ehr/bus';
import { createLogger, startAndListen } from '@ehr/runtime';
import { loadConfig } from './config.js';
import { createProducerService } from './service.js';

const config = loadConfig(process.env);
const logger = createLogger({ service: 'producer', level: config.LOG_LEVEL });
const bus = createBus(config, { clientId: 'producer', logger });
const service = createProducerService({ config, logger, bus });
const { url } = await startAndListen(service, {
  service: 'producer',
  host: config.HOST,
  port: config.PORT,
  logger,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  exitOnSignals: true,
});
logger.info({ url, bus: bus.kind }, `producer ready: ${url}/health/ready`);
