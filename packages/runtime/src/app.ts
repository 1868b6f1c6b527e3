import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { Histogram, type Registry } from 'prom-client';
import type { Logger } from './logger.js';
import type { Readiness } from './readiness.js';

export interface ServiceAppOptions {
  service: string;
  logger: Logger;
  metrics: Registry;
  readiness: Readiness;
  /** Largest accepted request body in bytes. */
  bodyLimit?: number;
  fastify?: Pick<FastifyServerOptions, 'trustProxy' | 'connectionTimeout' | 'keepAliveTimeout' | 'requestTimeout' | 'ajv' | 'pluginTimeout'>;
}

const startedAt = Date.now();

/**
 * The Fastify instance every service starts from: `/health/live`, `/health/ready`,
 * `/metrics`, request timing, and request logs that never contain URLs with ids.
 * It never listens; `main.ts` does.
 */
export function createServiceApp(options: ServiceAppOptions): FastifyInstance {
  const { service, logger, metrics, readiness } = options;
  // Typed as Fastify's logger so the instance is a plain FastifyInstance for every service.
  const fastifyLogger: FastifyBaseLogger = logger;
  const app = Fastify({
    ...options.fastify,
    loggerInstance: fastifyLogger,
    // Request URLs can carry patient ids (`/patients/:id`): log the route pattern instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
  });

  const httpDuration = new Histogram({
    name: 'ehr_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [metrics],
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, seconds);
    if (!route.startsWith('/health') && route !== '/metrics') {
      const line = { method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 };
      if (reply.statusCode >= 500) logger.error(line, 'request failed');
      else logger.debug(line, 'request');
    }
  });

  // Request logging is off, so errors are logged here, with the route pattern only.
  app.addHook('onError', async (request, _reply, error) => {
    logger.error({ err: error, method: request.method, route: request.routeOptions.url ?? 'unmatched' }, 'request error');
  });

  app.get('/health/live', async () => ({ status: 'live', service, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) }));

  app.get('/health/ready', async (_request, reply) => {
    const report = await readiness.report();
    return reply.code(report.status === 'not_ready' ? 503 : 200).send(report);
  });

  app.get('/metrics', async (_request, reply) => {
    return reply.header('content-type', metrics.contentType).send(await metrics.metrics());
  });

  return app;
}
