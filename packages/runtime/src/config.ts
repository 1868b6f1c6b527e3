import { KindGuard, Type, type Static, type TObject, type TProperties, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { formatProblem } from './formats.js';
import { HttpEnv } from './http-env.js';

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly problems: { variable: string; message: string }[],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** What a variable's schema may say beyond JSON Schema: how to show its rule, and whether its value is secret. */
export interface VariableAnnotations {
  /** The rule in words, shown in errors and in the README's table instead of a raw pattern. */
  rule?: string;
  /** Never print the value (tokens, passwords); names matching SECRET_NAME are secret too. */
  secret?: boolean;
}

/** Names whose values are secrets even when their schema does not say so (sink and bus passwords, tokens). */
const SECRET_NAME = /(^|_)(TOKENS?|PASSWORD|PASSPHRASE|SECRET)$/;

export const isSecretVariable = (name: string, schema?: TSchema): boolean =>
  (schema as VariableAnnotations | undefined)?.secret === true || SECRET_NAME.test(name);

type Problem = { variable: string; message: string };
type Property = TSchema & VariableAnnotations & { description?: string; format?: unknown; anyOf?: { const?: unknown }[] };

/**
 * Environment → typed config. The schema's keys are the variable names, so an error
 * names exactly what to fix; strings are coerced to numbers and booleans as declared (a
 * number only when written as one). An error shows the value given, except for secrets,
 * whose value never leaves.
 */
export function readConfig<T extends TObject>(
  schema: T,
  env: Readonly<Record<string, string | undefined>>,
  service = 'service',
): Static<T> {
  const given = givenValues(schema, env);
  const problems: Problem[] = [];
  const input: Record<string, unknown> = { ...given };
  for (const [variable, raw] of Object.entries(given)) {
    const property = schema.properties[variable] as Property;
    const parsed = asNumber(property, raw);
    if ('problem' in parsed) problems.push(problemOf(variable, property, raw, parsed.problem));
    else input[variable] = parsed.value;
  }
  const converted = Value.Convert(schema, Value.Default(schema, input));
  if (problems.length === 0 && Value.Check(schema, converted)) return converted;

  for (const e of Value.Errors(schema, converted)) {
    const variable = e.path.replace(/^\//, '').split('/')[0] ?? '';
    if (problems.some((p) => p.variable === variable)) continue;
    const property = Object.hasOwn(schema.properties, variable) ? (schema.properties[variable] as Property) : undefined;
    const raw = Object.hasOwn(given, variable) ? given[variable] : undefined;
    problems.push(problemOf(variable, property, raw, raw === undefined ? 'is required' : ruleOf(property, raw) ?? e.message));
  }
  const lines = problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n');
  throw new ConfigError(`invalid configuration for ${service}:\n${lines}`, problems);
}

/** The schema's variables that are set. */
function givenValues(schema: TObject, env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const given = Object.create(null) as Record<string, string>;
  for (const name of Object.keys(schema.properties)) {
    const value = env[name];
    // An empty variable means "not set": `FOO= npm start` should fall back to the default.
    if (value !== undefined && value !== '') given[name] = value;
  }
  return given;
}

/** What a value must be, in words: one of a list, the schema's rule (and why a format fails). */
function ruleOf(property: Property | undefined, raw: string): string | null {
  const allowed = property?.anyOf?.every((s) => s.const !== undefined) ? property.anyOf.map((s) => String(s.const)) : null;
  if (allowed) return `must be one of ${allowed.join(', ')}`;
  if (!property?.rule) return null;
  const why = formatProblem(property, raw);
  return `must be ${property.rule}${why ? `: ${why}` : ''}`;
}

function problemOf(variable: string, property: Property | undefined, raw: string | undefined, what: string): Problem {
  const got = raw === undefined ? 'it is not set' : isSecretVariable(variable, property) ? 'value not shown: it is a secret' : `got ${JSON.stringify(raw)}`;
  const description = property?.description;
  return { variable, message: `${what} (${got})${description ? ` — ${description}` : ''}` };
}

// TypeBox's Convert reads an integer as parseInt does and a number as parseFloat: `5e4` was
// 5, `4000.7` 4000, `0x1F90` 8080, with no error. Numbers are therefore read here, as written.
/** Digits with an optional sign: no exponent, point or hex. */
const WHOLE_NUMBER = /^[+-]?\d+$/;
/** Digits with an optional point and exponent: no hex, no `Infinity`. */
const DECIMAL_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

type NumberKind = 'integer' | 'number';

/** The numbers a schema takes: Optional is a flag on the schema itself, a Union takes any member's, an Intersect the strictest. */
function numberKinds(schema: TSchema): NumberKind[] {
  if (KindGuard.IsInteger(schema)) return ['integer'];
  if (KindGuard.IsNumber(schema)) return ['number'];
  if (KindGuard.IsUnion(schema)) return schema.anyOf.flatMap(numberKinds);
  if (KindGuard.IsIntersect(schema)) {
    const kinds = schema.allOf.flatMap(numberKinds);
    return kinds.includes('integer') ? ['integer'] : kinds;
  }
  return [];
}

/**
 * A number variable's value read as a number (surrounding blanks ignored), or why it cannot
 * be; any other value as given. A union member that takes the text as it is (`max` for
 * PRODUCER_SPEED) keeps it a string.
 */
function asNumber(schema: TSchema, raw: string): { value: unknown } | { problem: string } {
  const kinds = numberKinds(schema);
  if (kinds.length === 0) return { value: raw };
  const words = KindGuard.IsUnion(schema) ? schema.anyOf.filter((s) => numberKinds(s).length === 0) : [];
  if (words.some((s) => Value.Check(s, raw))) return { value: raw };
  const text = raw.trim();
  if (kinds.includes('integer') && WHOLE_NUMBER.test(text)) return { value: Number(text) };
  if (kinds.includes('number') && DECIMAL_NUMBER.test(text) && Number.isFinite(Number(text))) return { value: Number(text) };
  const number = kinds.includes('number') ? 'a decimal number (digits, an optional point and exponent; no hex)' : 'a whole number in plain digits (no exponent, point or hex)';
  const literals = words.flatMap((s) => (KindGuard.IsLiteral(s) ? [String(s.const)] : []));
  return { problem: `must be ${[...literals, number].join(' or ')}` };
}

/** Variables every service reads. Compose with a service's own with `Type.Composite`. */
export const ServiceEnv = Type.Composite([
  Type.Object({
    HOST: Type.String({ default: '127.0.0.1', description: 'interface the HTTP server binds to (0.0.0.0 in containers)' }),
    LOG_LEVEL: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info', description: 'pino log level' },
    ),
    SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000, description: 'deadline for a graceful shutdown' }),
  }),
  HttpEnv,
]);
export type ServiceEnv = Static<typeof ServiceEnv>;

export const portEnv = (defaultPort: number) =>
  Type.Object({
    PORT: Type.Integer({ minimum: 0, maximum: 65535, default: defaultPort, description: 'HTTP port (health, readiness, metrics)' }),
  });

export type { Static, TObject, TProperties };
