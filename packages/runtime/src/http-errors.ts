// What a service answers when a request fails before or inside its handler: Fastify's own
// refusals (bad JSON, too large, wrong content type, schema validation), unknown paths (404,
// or 405 with Allow when the path exists for another method) and crashes, all as problems.
// A client's mistake is logged at warn without a stack (it is not ours to debug: see the
// onResponse hook of createServiceApp); a 5xx at error, with it.
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Logger } from './logger.js';
import type { ProblemInit } from './problem.js';
import { pathOf, sendProblem } from './reply-error.js';
import { methodsFor } from './routes.js';

interface HttpError extends Partial<FastifyError> {
  message: string;
  headers?: Record<string, string>;
}

/** The problem for an error Fastify or a handler threw; 5xx details are not shown to clients. */
function problemFor(error: HttpError): { status: number; init: ProblemInit } {
  if (error.validation) {
    const where = error.validationContext ?? 'request';
    // Ajv says "must NOT have additional properties" without saying which: name it (clipped: it is the client's text).
    const messageOf = (v: NonNullable<HttpError['validation']>[number]) => {
      const extra = v.keyword === 'additionalProperties' ? (v.params as { additionalProperty?: unknown }).additionalProperty : undefined;
      return `${v.message ?? 'invalid'}${typeof extra === 'string' ? `: ${JSON.stringify(extra.slice(0, 100))}` : ''}`;
    };
    const errors = error.validation.map((v) => ({ path: `${where}${v.instancePath}`, message: messageOf(v) }));
    return {
      status: 400,
      init: {
        type: 'invalid-request',
        title: 'The request does not match its schema',
        detail: errors.map((e) => `${e.path} ${e.message}`).join('; '),
        errors,
      },
    };
  }
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, init: { type: 'invalid-json', title: 'The body is not valid JSON', detail: error.message } };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, init: { type: 'body-too-large', title: 'The body is larger than this service accepts', detail: error.message } };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, init: { type: 'unsupported-media-type', title: 'The content type is not accepted here', detail: error.message } };
  }
  if (status >= 500 && error.statusCode === undefined) return { status, init: { detail: 'an unexpected error; it is logged' } };
  // JSON.parse in a content-type parser throws a SyntaxError that Fastify tags 400.
  if (status === 400 && error.name === 'SyntaxError') return { status, init: { type: 'invalid-json', title: 'The body is not valid JSON', detail: error.message } };
  return { status, init: { detail: error.message } };
}

export function registerErrorHandlers(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((error: HttpError, request, reply) => {
    const { status, init } = problemFor(error);
    // 4xx are logged once the answer is sent (createServiceApp's onResponse), with the problem.
    if (status >= 500) logger.error({ err: error, method: request.method, route: request.routeOptions.url ?? 'unmatched', status }, 'request error');
    if (error.headers) void reply.headers(error.headers);
    return sendProblem(reply, status, init);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = pathOf(request.url);
    const allowed = methodsFor(app, path);
    if (allowed.length > 0) {
      void reply.header('allow', allowed.join(', '));
      return sendProblem(reply, 405, { detail: `${request.method} is not allowed here; allowed: ${allowed.join(', ')}` });
    }
    return sendProblem(reply, 404, { detail: `no route for ${request.method} ${path}` });
  });
}
