import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { DeadLetter, type DeadLetterReason, type ValidationIssue } from './schemas/dead-letter.js';
import { RAW_EVENT_SCHEMAS, type RawEvent } from './schemas/events.js';

export type Validation<T> =
  | { ok: true; value: T }
  | { ok: false; reason: DeadLetterReason; error: string; issues: ValidationIssue[] };

const MAX_ISSUES = 20;

/** `/payload/value` → `payload.value`; the root is `$`. */
export function toFieldPath(pointer: string): string {
  if (pointer === '' || pointer === '/') return '$';
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

export interface Validator<T extends TSchema> {
  check(value: unknown): value is Static<T>;
  validate(value: unknown): Validation<Static<T>>;
}

/** A compiled validator: fast on the hot path, precise about what is wrong when it fails. */
export function compileValidator<T extends TSchema>(schema: T, label = String(schema.$id ?? 'message')): Validator<T> {
  const compiled: TypeCheck<T> = TypeCompiler.Compile(schema);
  return {
    check: (value): value is Static<T> => compiled.Check(value),
    validate(value) {
      if (compiled.Check(value)) return { ok: true, value };
      const issues: ValidationIssue[] = [];
      for (const e of compiled.Errors(value)) {
        issues.push({ path: toFieldPath(e.path), message: e.message });
        if (issues.length >= MAX_ISSUES) break;
      }
      return { ok: false, reason: 'schema_invalid', error: describeIssues(label, issues), issues };
    },
  };
}

export function describeIssues(label: string, issues: readonly ValidationIssue[]): string {
  const shown = issues.slice(0, 3).map((i) => `${i.path}: ${i.message}`);
  const more = issues.length > 3 ? ` (+${issues.length - 3} more)` : '';
  return `invalid ${label}: ${shown.join('; ')}${more}`;
}

/** Stateless between calls (no `stream` option): one for every message, not one each. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** JSON bytes → value, or the parse error as a validation failure. */
export function parseJson(bytes: Uint8Array | string): Validation<unknown> {
  let text: string;
  try {
    text = typeof bytes === 'string' ? bytes : utf8.decode(bytes);
  } catch {
    return { ok: false, reason: 'unparseable', error: 'message is not valid UTF-8', issues: [{ path: '$', message: 'invalid UTF-8' }] };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, reason: 'unparseable', error: `message is not JSON: ${message}`, issues: [{ path: '$', message }] };
  }
}

// A Map, not an object: the schema name comes from input, and `"toString" in {}` is true.
const rawEventValidators: ReadonlyMap<string, Validator<TSchema>> = new Map(
  Object.entries(RAW_EVENT_SCHEMAS).map(([name, schema]) => [name, compileValidator(schema, `${name} event`)]),
);

const SUPPORTED_RAW_VERSION = 1;

/**
 * Validates a raw event in two steps so that errors say what matters: first which
 * schema and version it claims to be, then that schema's fields.
 */
export function validateRawEvent(value: unknown): Validation<RawEvent> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'schema_invalid', error: 'event must be a JSON object', issues: [{ path: '$', message: 'Expected object' }] };
  }
  const { schema, schemaVersion } = value as { schema?: unknown; schemaVersion?: unknown };
  const validator = typeof schema === 'string' ? rawEventValidators.get(schema) : undefined;
  if (validator === undefined) {
    const known = [...rawEventValidators.keys()].join(', ');
    return {
      ok: false,
      reason: 'schema_invalid',
      error: `unknown event schema ${JSON.stringify(schema)}; expected one of ${known}`,
      issues: [{ path: 'schema', message: `Expected one of ${known}` }],
    };
  }
  if (schemaVersion !== SUPPORTED_RAW_VERSION) {
    return {
      ok: false,
      reason: 'unsupported_schema_version',
      error: `${String(schema)} schemaVersion ${JSON.stringify(schemaVersion)} is not supported (supported: ${SUPPORTED_RAW_VERSION})`,
      issues: [{ path: 'schemaVersion', message: `Expected ${SUPPORTED_RAW_VERSION}` }],
    };
  }
  return validator.validate(value) as Validation<RawEvent>;
}

/** Bytes off the bus → a valid raw event, or why not. */
export function decodeRawEvent(bytes: Uint8Array | string): Validation<RawEvent> {
  const parsed = parseJson(bytes);
  return parsed.ok ? validateRawEvent(parsed.value) : parsed;
}

const deadLetterValidator = compileValidator(DeadLetter, 'dead letter');

export function decodeWith<T>(validate: (v: unknown) => Validation<T>, bytes: Uint8Array | string): Validation<T> {
  const parsed = parseJson(bytes);
  return parsed.ok ? validate(parsed.value) : parsed;
}

// decodeFeatureVector and decodeSeverityScore are in wire/: they read the compact frames and the JSON of before.
export const decodeDeadLetter = (bytes: Uint8Array | string): Validation<DeadLetter> =>
  decodeWith((v) => deadLetterValidator.validate(v), bytes);
