// Every service's API description: /openapi.json (generated from the route schemas by
// @fastify/swagger) and an API reference page at /docs (@fastify/swagger-ui, assets bundled
// in the package, so it works offline). The errors every route can answer (a refused Host,
// a body Fastify cannot read, authentication, a crash) are added to each operation here, so
// that routes only declare their own.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import { Problem, problemResponses } from './problem.js';
import { FHIR_JSON, isFhirPath } from './reply-error.js';

export const DOCS_PREFIX = '/docs';

export interface OpenApiInfo {
  title: string;
  description: string;
  tags?: { name: string; description: string }[];
}

/** What an OperationOutcome looks like, for the responses under /fhir. */
export const OperationOutcomeSchema = {
  description: 'A FHIR R4 OperationOutcome: each issue with severity, code, diagnostics and the FHIRPath of the element',
  type: 'object',
  required: ['resourceType', 'issue'],
  properties: {
    resourceType: { type: 'string', enum: ['OperationOutcome'] },
    issue: {
      type: 'array',
      items: {
        type: 'object',
        properties: { severity: { type: 'string' }, code: { type: 'string' }, diagnostics: { type: 'string' }, expression: { type: 'array', items: { type: 'string' } } },
      },
    },
  },
};

/** OpenAPI responses under /fhir: the errors are OperationOutcomes. */
export function operationOutcomeResponses(statuses: Readonly<Record<number, string>>): Record<number, unknown> {
  return Object.fromEntries(Object.entries(statuses).map(([status, description]) => [status, { description, content: { [FHIR_JSON]: { schema: OperationOutcomeSchema } } }]));
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** The errors any route of this kind can answer, whatever its handler does. */
function commonErrors(method: string, secured: boolean): Record<number, string> {
  const errors: Record<number, string> = {};
  if (BODY_METHODS.has(method)) {
    errors[400] = 'the body is not valid JSON or does not match the schema';
    errors[413] = 'the body is larger than the body limit';
    errors[415] = 'the content type is not accepted';
  }
  if (secured) {
    errors[401] = 'no valid bearer token (WWW-Authenticate says which scope)';
    errors[403] = 'the token lacks the scope, or the door is closed';
  }
  errors[421] = 'the Host header is not one this service answers to (ALLOWED_HOSTS)';
  errors[500] = 'an unexpected error (logged with its stack)';
  return errors;
}

function withCommonErrors(schema: FastifySchema | undefined, route: RouteOptions, url: string): FastifySchema {
  const method = Array.isArray(route.method) ? String(route.method[0]) : String(route.method);
  const secured = Array.isArray((schema as { security?: unknown[] } | undefined)?.security) && ((schema as { security: unknown[] }).security.length > 0);
  const errors = commonErrors(method, secured);
  const documented = isFhirPath(url) ? operationOutcomeResponses(errors) : problemResponses(errors, Problem);
  const own = (schema?.response ?? {}) as Record<string, unknown>;
  const response = { ...(own[200] || own[201] || own[202] || own[204] ? {} : { 200: { description: 'OK' } }), ...documented, ...own };
  return { ...schema, response };
}

/** Registers the generator and the reference page; routes added after this (in `after` or a plugin) are documented. */
export function registerOpenApi(app: FastifyInstance, info: OpenApiInfo): void {
  void app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: info.title, version: '1.0.0', description: `${info.description}\n\nErrors are RFC 9457 problem details (application/problem+json); under /fhir they are FHIR OperationOutcomes. The reference page is ${DOCS_PREFIX}.` },
      tags: [...(info.tags ?? []), { name: 'health', description: 'probes and metrics' }, { name: 'meta', description: 'this document' }],
      // The doors' scopes (ingest, read, admin) are named in each operation's description.
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas: { Problem: JSON.parse(JSON.stringify(Problem)) as Record<string, unknown> } },
    },
    transform: ({ schema, url, route }) => ({ schema: withCommonErrors(schema, route, url), url }),
  });
  void app.register(swaggerUi, { routePrefix: DOCS_PREFIX, staticCSP: true });
  app.after(() => {
    app.get('/openapi.json', { schema: { summary: 'This OpenAPI document', tags: ['meta'] } }, async () => app.swagger());
  });
}
