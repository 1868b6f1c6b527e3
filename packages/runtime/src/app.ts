import { readFileSync } from 'node:fs';
import { AjvCompiler, type Options as AjvOptions } from '@fastify/ajv-compiler';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { Histogram, type Registry } from 'prom-client';
import { ConfigError } from './config.js';
import { HostAllowList } from './hosts.js';
import { trustedProxies, trustProxyProblem, type HttpConfig } from './http-env.js';
import { registerErrorHandlers } from './http-errors.js';
import type { Logger } from './logger.js';
import { registerOpenApi, type OpenApiInfo } from './openapi.js';
import type { Readiness } from './readiness.js';
import { problemOf, sendProblem } from './reply-error.js';
import { trackRoutes } from './routes.js';

export interface ServiceAppOptions {
  service: string;
  logger: Logger;
  metrics: Registry;
  readiness: Readiness;
  /** Largest accepted request body in bytes. */
  bodyLimit?: number;
  /** The service's HTTP settings (ServiceEnv): host allow-list, timeouts, TLS, trusted proxies. Defaults when omitted. */
  http?: Partial<HttpConfig>;
  fastify?: Pick<FastifyServerOptions, 'ajv' | 'pluginTimeout'>;
  /** The OpenAPI document's title and description (served at /openapi.json, shown at /docs). */
  openapi?: OpenApiInfo;
}

/** What a service's `buildApp` is handed for the base app; a service with routes extends it. */
export type ServiceAppDeps = Pick<ServiceAppOptions, 'logger' | 'metrics' | 'readiness' | 'http'>;

const startedAt = Date.now();

const DEFAULT_TIMEOUTS = { HTTP_REQUEST_TIMEOUT_MS: 30_000, HTTP_HEADERS_TIMEOUT_MS: 10_000, HTTP_KEEP_ALIVE_TIMEOUT_MS: 5_000 };

function readPem(variable: 'TLS_CERT_FILE' | 'TLS_KEY_FILE', file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const message = `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
    throw new ConfigError(`invalid configuration:\n  ${variable}: ${message}`, [{ variable, message }]);
  }
}

/** Node's server options for the timeouts (and HTTPS), checked against each other. */
function serverOptions(http: Partial<HttpConfig>) {
  const t = { ...DEFAULT_TIMEOUTS, ...http };
  if (t.HTTP_HEADERS_TIMEOUT_MS > t.HTTP_REQUEST_TIMEOUT_MS) {
    const message = `must be at most HTTP_REQUEST_TIMEOUT_MS (${t.HTTP_REQUEST_TIMEOUT_MS}), got ${t.HTTP_HEADERS_TIMEOUT_MS}`;
    throw new ConfigError(`invalid configuration:\n  HTTP_HEADERS_TIMEOUT_MS: ${message}`, [{ variable: 'HTTP_HEADERS_TIMEOUT_MS', message }]);
  }
  if (Boolean(http.TLS_CERT_FILE) !== Boolean(http.TLS_KEY_FILE)) {
    const variable = http.TLS_CERT_FILE ? 'TLS_KEY_FILE' : 'TLS_CERT_FILE';
    const message = 'is required: TLS needs both TLS_CERT_FILE and TLS_KEY_FILE';
    throw new ConfigError(`invalid configuration:\n  ${variable}: ${message}`, [{ variable, message }]);
  }
  // readConfig has checked it; a caller handing settings in directly gets the same error, not Fastify's TypeError.
  const proxyProblem = http.TRUST_PROXY ? trustProxyProblem(http.TRUST_PROXY) : null;
  if (proxyProblem) {
    const message = `must be comma-separated IP addresses or CIDR ranges: ${proxyProblem} (got ${JSON.stringify(http.TRUST_PROXY)})`;
    throw new ConfigError(`invalid configuration:\n  TRUST_PROXY: ${message}`, [{ variable: 'TRUST_PROXY', message }]);
  }
  // Node enforces the header and request deadlines on a periodic sweep (30 s by default): sweep
  // often enough that a slow client is cut close to its deadline.
  const node = { headersTimeout: t.HTTP_HEADERS_TIMEOUT_MS, requestTimeout: t.HTTP_REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1_000 };
  const tls = http.TLS_CERT_FILE && http.TLS_KEY_FILE ? { cert: readPem('TLS_CERT_FILE', http.TLS_CERT_FILE), key: readPem('TLS_KEY_FILE', http.TLS_KEY_FILE) } : null;
  return {
    ...(tls ? { https: { ...node, ...tls } } : { http: node }),
    requestTimeout: t.HTTP_REQUEST_TIMEOUT_MS,
    keepAliveTimeout: t.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    ...(http.TRUST_PROXY ? { trustProxy: trustedProxies(http.TRUST_PROXY) } : {}),
  };
}

/**
 * Fastify's validators, except that a JSON body is checked as it came, never coerced. Fastify
 * coerces to the schema's types (`coerceTypes: 'array'`), which query strings need (`?limit=5`
 * is text), but a body's JSON has its own types, and in a union Ajv coerces within the first
 * branch it tries: `{"respiratory_rate": null}` against `number | null` became 0 in POST
 * /score (a missing vital scored as a respiration rate of 0, NEWS2 3), and `"120"` passed as
 * 120. Query strings, path parameters and headers keep Fastify's coercion.
 */
function bodiesUncoerced() {
  const pool = AjvCompiler();
  type Factory = ReturnType<typeof AjvCompiler>;
  // Fastify passes its `ajv` server option (Ajv's own options under customOptions, never JTD here).
  return (externalSchemas: Parameters<Factory>[0], ajvOptions: { customOptions?: AjvOptions; plugins?: unknown[] } = {}) => {
    const coercing = pool(externalSchemas, ajvOptions as Parameters<Factory>[1]);
    const asSent = pool(externalSchemas, { ...ajvOptions, customOptions: { ...ajvOptions.customOptions, coerceTypes: false } } as Parameters<Factory>[1]);
    return (route: Parameters<ReturnType<Factory>>[0]) => (route.httpPart === 'body' ? asSent(route) : coercing(route));
  };
}

/**
 * The Fastify instance every service starts from: `/health/live`, `/health/ready`,
 * `/metrics`, request timing, request logs that never contain URLs with ids, a Host
 * allow-list (421 otherwise) and request, header and keep-alive timeouts; HTTPS with
 * TLS_CERT_FILE/TLS_KEY_FILE; every error as an RFC 9457 problem (an OperationOutcome under
 * /fhir); `/openapi.json` and an API reference page at `/docs`. Routes a service adds in
 * `app.after()` or a plugin are documented. It never listens; `main.ts` does.
 */
export function createServiceApp(options: ServiceAppOptions): FastifyInstance {
  const { service, logger, metrics, readiness } = options;
  const http = options.http ?? {};
  // Typed as Fastify's logger so the instance is a plain FastifyInstance for every service.
  const fastifyLogger: FastifyBaseLogger = logger;
  const settings = {
    ...options.fastify,
    ...serverOptions(http),
    loggerInstance: fastifyLogger,
    // Request URLs can carry patient ids (`/patients/:id`): log the route pattern instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // Fastify's Ajv drops properties a closed schema does not list (`removeAdditional: true`):
    // `GET /alerts?sevrity=high` answered the whole, unfiltered list and a misspelled body field
    // was ignored. Refused instead (400, naming it); the rest of Fastify's defaults stay
    // (query strings coerced to the schema's types, defaults filled in).
    ajv: { customOptions: { removeAdditional: false, ...options.fastify?.ajv?.customOptions }, ...(options.fastify?.ajv?.plugins ? { plugins: options.fastify.ajv.plugins } : {}) },
    schemaController: { compilersFactory: { buildValidator: bodiesUncoerced() } },
  };
  // With `https` Fastify types the instance over https.Server; every route and hook is the same.
  const app = Fastify(settings as FastifyServerOptions) as unknown as FastifyInstance;
  trackRoutes(app);
  registerErrorHandlers(app, logger);
  registerOpenApi(app, options.openapi ?? { title: `EHR severity pipeline: ${service}`, description: `The ${service} service: health, readiness and metrics.` });

  const hosts = HostAllowList.fromList(http.ALLOWED_HOSTS);
  app.addHook('onRequest', async (request, reply) => {
    if (hosts.allows(request.host)) return;
    return sendProblem(reply, 421, { type: 'misdirected-request', detail: 'this server does not answer to that host name (see ALLOWED_HOSTS)' });
  });

  // While closing, answers still in flight end their connection, so that close() does not
  // wait out the keep-alive timeout of a client that is done.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) void reply.header('connection', 'close');
    return payload;
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
      else if (reply.statusCode >= 400) logger.warn({ ...line, problem: problemOf(reply) }, 'request refused');
      else logger.debug(line, 'request');
    }
  });

  // After the OpenAPI plugin has loaded, so that these are documented too.
  app.after(() => {
    const probe = { tags: ['health'] };
    app.get('/health/live', { schema: { ...probe, summary: 'Liveness: the process answers' } }, async () => ({ status: 'live', service, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) }));

    app.get(
      '/health/ready',
      { schema: { ...probe, summary: 'Readiness: ready or degraded (200), not_ready (503), with each dependency and its state', response: { 200: { description: 'ready or degraded', type: 'object', additionalProperties: true }, 503: { description: 'not ready (the same report)', type: 'object', additionalProperties: true } } } },
      async (_request, reply) => {
        const report = await readiness.report();
        return reply.code(report.status === 'not_ready' ? 503 : 200).send(report);
      },
    );

    app.get('/metrics', { schema: { tags: ['health'], summary: 'Prometheus metrics (text exposition format)' } }, async (_request, reply) => {
      return reply.header('content-type', metrics.contentType).send(await metrics.metrics());
    });
  });

  return app;
}
