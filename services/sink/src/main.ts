// The sink service as a process: env → config → real bus and warehouse → listen → graceful shutdown.
import { createBus } from '@ehr/bus';
import { createLogger, startAndListen } from '@ehr/runtime';
import { loadConfig } from './config.js';
import { createSinkService } from './service.js';

const config = loadConfig(process.env);
const logger = createLogger({ service: 'sink', level: config.LOG_LEVEL });
const bus = createBus(config, { clientId: 'sink', logger });
const service = createSinkService({ config, logger, bus, cwd: process.cwd() });
const { url } = await startAndListen(service, {
  service: 'sink',
  host: config.HOST,
  port: config.PORT,
  logger,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  exitOnSignals: true,
});
logger.info({ url, bus: bus.kind, warehouse: service.warehouse.description }, `sink ready: ${url}/health/ready`);
