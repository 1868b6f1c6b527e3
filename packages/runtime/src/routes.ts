// The routes a service registers, seen from the root instance: for 405 (a path that exists
// with another method) and for the test that the OpenAPI document lists every route.
import type { FastifyInstance } from 'fastify';
import { DOCS_PREFIX } from './openapi.js';

export interface RegisteredRoute {
  method: string;
  url: string;
  /** Left out of the OpenAPI document on purpose (`schema.hide`). */
  hidden: boolean;
  pattern: RegExp;
}

const registry = new WeakMap<FastifyInstance, RegisteredRoute[]>();

const escape = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

/** `/alerts/:id/dismiss` → a regular expression matching request paths of that route. */
function patternOf(url: string): RegExp {
  const source = url
    .split('/')
    .map((part) => (part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : escape(part)))
    .join('/');
  return new RegExp(`^${source}$`);
}

/** Starts recording every route added to `app` or its plugins (call before any route is added). */
export function trackRoutes(app: FastifyInstance): void {
  const list: RegisteredRoute[] = [];
  registry.set(app, list);
  app.addHook('onRoute', (route) => {
    const hidden = Boolean((route.schema)?.hide);
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
      list.push({ method: String(method), url: route.url, hidden, pattern: patternOf(route.url) });
    }
  });
}

export function registeredRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  return registry.get(app) ?? [];
}

/** The methods a path answers to (for `Allow` on a 405), none when no route matches it. */
export function methodsFor(app: FastifyInstance, path: string): string[] {
  return [...new Set(registeredRoutes(app).filter((r) => r.pattern.test(path)).map((r) => r.method))].sort();
}

/** `/alerts/:id` → `/alerts/{id}`: how the OpenAPI document writes a path. */
export const openApiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/**
 * Routes registered but missing from the OpenAPI document, and operations in it that no
 * route answers: both empty when the document tells the truth. HEAD (added by Fastify
 * for every GET), the reference page under /docs and hidden routes are left out.
 */
export async function specMismatches(app: FastifyInstance): Promise<{ undocumented: string[]; phantom: string[] }> {
  await app.ready();
  const spec = app.swagger() as { paths?: Record<string, Record<string, unknown>> };
  const documented = new Set(Object.entries(spec.paths ?? {}).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)));
  const registered = new Set(
    registeredRoutes(app)
      .filter((r) => r.method !== 'HEAD' && !r.hidden && r.url !== DOCS_PREFIX && !r.url.startsWith(`${DOCS_PREFIX}/`))
      .map((r) => `${r.method} ${openApiPath(r.url)}`),
  );
  return { undocumented: [...registered].filter((r) => !documented.has(r)).sort(), phantom: [...documented].filter((d) => !registered.has(d)).sort() };
}
