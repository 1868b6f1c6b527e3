// Sending an error: a problem+json body, or under /fhir the same problem as a FHIR
// OperationOutcome. Every error a service answers goes through sendProblem, so a client
// sees one shape per door whoever refused it (Fastify, authentication, intake, a route).
import type { FastifyReply } from 'fastify';
import { problem, PROBLEM_CONTENT_TYPE, type Problem, type ProblemInit } from './problem.js';

export const FHIR_JSON = 'application/fhir+json';

/** Where FHIR clients talk: errors there are OperationOutcomes. */
export const FHIR_PREFIX = '/fhir';

/** The request path without its query string. */
export const pathOf = (url: string): string => {
  const q = url.indexOf('?');
  return q >= 0 ? url.slice(0, q) : url;
};

export const isFhirPath = (url: string): boolean => {
  const path = pathOf(url);
  return path === FHIR_PREFIX || path.startsWith(`${FHIR_PREFIX}/`);
};

/** The FHIR issue type (http://hl7.org/fhir/R4/valueset-issue-type.html) for an HTTP status. */
function issueCode(status: number): string {
  switch (status) {
    case 401:
      return 'login';
    case 403:
    case 421:
      return 'forbidden';
    case 404:
      return 'not-found';
    case 405:
    case 415:
      return 'not-supported';
    case 409:
      return 'conflict';
    case 413:
      return 'too-costly';
    case 429:
      return 'throttled';
    case 503:
      return 'transient';
    default:
      return status >= 500 ? 'exception' : 'invalid';
  }
}

/** A minimal FHIR R4 OperationOutcome (the types of @types/fhir are not a runtime dependency). */
export interface OperationOutcomeBody {
  resourceType: 'OperationOutcome';
  issue: { severity: 'fatal' | 'error' | 'warning' | 'information'; code: string; diagnostics?: string; expression?: string[] }[];
}

/** The OperationOutcome that says what a problem says. */
export function problemAsOperationOutcome(p: Problem): OperationOutcomeBody {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: issueCode(p.status), diagnostics: p.detail ? `${p.title}: ${p.detail}` : p.title }] };
}

const sent = new WeakMap<FastifyReply, { type: string; title: string }>();

/**
 * The problem a reply answered, for the request log line: its type and title only, since a
 * detail can quote the request path or body (a patient id) and logs never carry those.
 */
export const problemOf = (reply: FastifyReply): { type: string; title: string } | undefined => sent.get(reply);

/**
 * Sends a problem (status, content type, body serialized here so that no route's response
 * schema can drop an extension member). `instance` defaults to the request path.
 */
export function sendProblem(reply: FastifyReply, status: number, init: ProblemInit = {}): FastifyReply {
  const url = reply.request.url;
  const body = problem(status, { instance: pathOf(url), ...init });
  reply.code(status);
  sent.set(reply, { type: body.type, title: body.title });
  if (isFhirPath(url)) return reply.type(`${FHIR_JSON}; charset=utf-8`).send(JSON.stringify(problemAsOperationOutcome(body)));
  return reply.type(`${PROBLEM_CONTENT_TYPE}; charset=utf-8`).send(JSON.stringify(body));
}
