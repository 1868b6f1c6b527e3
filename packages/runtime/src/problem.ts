// One error shape for every service: RFC 9457 problem details (application/problem+json).
// Under /fhir the same problem is answered as a FHIR OperationOutcome instead, since FHIR
// clients read nothing else (see reply-error.ts).
import { Type, type Static, type TSchema } from '@sinclair/typebox';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Problem types of our own: non-dereferenceable `tag:` URIs (RFC 9457 §3.1.1 allows them). */
export const PROBLEM_TYPE_PREFIX = 'tag:ehr-pipeline,2026:problem:';

export const problemType = (slug: string): string => `${PROBLEM_TYPE_PREFIX}${slug}`;

export const Problem = Type.Object(
  {
    type: Type.String({ description: 'a URI naming the problem type: about:blank for plain HTTP errors, else tag:ehr-pipeline,2026:problem:<name>' }),
    title: Type.String({ description: 'short summary of the problem type (the same for every occurrence)' }),
    status: Type.Integer({ minimum: 400, maximum: 599, description: 'the HTTP status code' }),
    detail: Type.Optional(Type.String({ description: 'what went wrong this time, for a person' })),
    instance: Type.Optional(Type.String({ description: 'the request path (without the query) that had the problem' })),
    errors: Type.Optional(
      Type.Array(Type.Object({}, { additionalProperties: true }), { description: 'one entry per invalid item or field (index, reason, issues, path, message)' }),
    ),
  },
  {
    additionalProperties: true,
    description: 'RFC 9457 problem details; other members are extensions of the problem type (e.g. reasons, serving, retryAfterSeconds)',
  },
);
export type Problem = Static<typeof Problem>;

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  421: 'Misdirected Request',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** The HTTP reason phrase: the title of an `about:blank` problem. */
export const statusTitle = (status: number): string => TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');

export interface ProblemInit {
  /** A slug (`invalid-events`) for a problem type of our own, or a full URI; about:blank when omitted. */
  type?: string;
  title?: string;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

/** A problem object: the type's title defaults to the status phrase; a slug becomes a tag: URI. */
export function problem(status: number, init: ProblemInit = {}): Problem {
  const { type, title, detail, instance, ...extensions } = init;
  const uri = type === undefined ? 'about:blank' : type.includes(':') ? type : problemType(type);
  return {
    type: uri,
    title: title ?? statusTitle(status),
    status,
    ...(detail !== undefined ? { detail } : {}),
    ...(instance !== undefined ? { instance } : {}),
    ...extensions,
  };
}

/** OpenAPI responses for the error statuses a route answers, each a problem (documentation only: no serializer). */
export function problemResponses(statuses: Readonly<Record<number, string>>, schema: TSchema = Problem): Record<number, unknown> {
  return Object.fromEntries(
    Object.entries(statuses).map(([status, description]) => [status, { description, content: { [PROBLEM_CONTENT_TYPE]: { schema } } }]),
  );
}
