// The dashboard as a process: env → config → real bus → listen → graceful shutdown.
import { createBus } from '@ehr/bus';
import { createLogger, startAndListen } from '@ehr/runtime';
import { loadConfig } from './config.js';
import { createDashboardService } from './service.js';

const config = loadConfig(process.env);
const logger = createLogger({ service: 'dashboard', level: config.LOG_LEVEL });
const bus = createBus(config, { clientId: 'dashboard', logger });
const service = createDashboardService({ config, logger, bus });
const { url } = await startAndListen(service, {
  service: 'dashboard',
  host: config.HOST,
  port: config.PORT,
  logger,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  exitOnSignals: true,
});
logger.info({ url, bus: bus.kind }, `dashboard: ${url}/`);
