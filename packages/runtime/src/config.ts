import { Type, type Static, type TObject, type TProperties, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
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

/**
 * Environment → typed config. The schema's keys are the variable names, so an error
 * names exactly what to fix; strings are coerced to numbers and booleans as declared.
 * An error shows the value given, except for secrets, whose value never leaves.
 */
export function readConfig<T extends TObject>(
  schema: T,
  env: Readonly<Record<string, string | undefined>>,
  service = 'service',
): Static<T> {
  const raw: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const name of Object.keys(schema.properties)) {
    const value = env[name];
    // An empty variable means "not set": `FOO= npm start` should fall back to the default.
    if (value !== undefined && value !== '') raw[name] = value;
  }
  const withDefaults = Value.Default(schema, { ...raw });
  const converted = Value.Convert(schema, withDefaults);
  if (Value.Check(schema, converted)) return converted;

  const problems: { variable: string; message: string }[] = [];
  for (const e of Value.Errors(schema, converted)) {
    const variable = e.path.replace(/^\//, '').split('/')[0] ?? '';
    if (problems.some((p) => p.variable === variable)) continue;
    const property = Object.hasOwn(schema.properties, variable)
      ? (schema.properties[variable] as TSchema & VariableAnnotations & { description?: string; anyOf?: { const?: unknown }[] })
      : undefined;
    const given = Object.hasOwn(raw, variable) ? raw[variable] : undefined;
    const secret = isSecretVariable(variable, property);
    const got = given === undefined ? 'it is not set' : secret ? 'value not shown: it is a secret' : `got ${JSON.stringify(given)}`;
    const allowed = property?.anyOf?.every((s) => s.const !== undefined) ? property.anyOf.map((s) => String(s.const)) : null;
    const what = given === undefined ? 'is required' : allowed ? `must be one of ${allowed.join(', ')}` : property?.rule ? `must be ${property.rule}` : e.message;
    const description = property?.description;
    problems.push({ variable, message: `${what} (${got})${description ? ` — ${description}` : ''}` });
  }
  const lines = problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n');
  throw new ConfigError(`invalid configuration for ${service}:\n${lines}`, problems);
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
