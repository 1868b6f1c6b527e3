import { pino, stdSerializers, type ChildLoggerOptions, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

type ChildOptions = ChildLoggerOptions;

// Field names that carry a patient identifier or a secret wherever they appear. A Kafka
// message key is the patient id in this pipeline, so keys are redacted too.
export const SENSITIVE_FIELDS: readonly string[] = [
  'patientId',
  'patient_id',
  'subjectId',
  'subject_id',
  'encounterId',
  'encounter_id',
  'mrn',
  'birthDate',
  'key',
  'messageKey',
  'originalKey',
  'password',
  'passphrase',
  'privateKey',
  'privateKeyPass',
  'privateKeyPath',
  'token',
  'tokens',
  'accessToken',
  'masterToken',
  'adminToken',
  'secret',
  'authorization',
  'cookie',
  'set-cookie',
  'x-admin-token',
];

export const CENSOR = '[redacted]';

/** Past this depth a value is replaced whole: nothing below it can leak. */
const MAX_DEPTH = 32;

type Plain = Record<string, unknown>;

/**
 * A copy of `value` with every sensitive field censored at any depth (objects, arrays,
 * error objects); parts without one are shared, not copied. Pino's own `redact` needs a
 * path per depth, so this walks instead. Copies have no prototype, so a key named
 * `__proto__` in logged input stays a plain field.
 */
export function redactDeep(value: unknown, sensitive: ReadonlySet<string> = SENSITIVE_SET, depth = 0, ancestors = new Set<object>()): unknown {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value) || value instanceof Date) return value;
  if (depth > MAX_DEPTH) return `${CENSOR} (deeper than ${MAX_DEPTH} levels)`;
  // A cycle would hand the serializer the original (uncensored) object again.
  if (ancestors.has(value)) return '[Circular]';
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      let copy: unknown[] | null = null;
      value.forEach((item: unknown, i) => {
        const redacted = redactDeep(item, sensitive, depth + 1, ancestors);
        if (redacted !== item) (copy ??= [...(value as unknown[])])[i] = redacted;
      });
      return copy ?? value;
    }
    let copy: Plain | null = null;
    for (const name of Object.keys(value)) {
      const item = (value as Plain)[name];
      const redacted = sensitive.has(name) ? CENSOR : redactDeep(item, sensitive, depth + 1, ancestors);
      if (redacted !== item) {
        copy ??= value instanceof Error ? errorFields(value) : Object.assign(Object.create(null) as Plain, value);
        copy[name] = redacted;
      }
    }
    return copy ?? value;
  } finally {
    ancestors.delete(value);
  }
}

/** Pino reads bindings with their own hasOwnProperty: hand it an ordinary object. */
const redactBindings = (bindings: Plain): Plain => {
  const redacted = redactDeep(bindings);
  return redacted === bindings ? bindings : { ...(redacted as Plain) };
};

/** An error as the log shows it (type, message, stack, its own fields), ready to be censored. */
function errorFields(err: Error): Plain {
  const fields = Object.create(null) as Plain;
  Object.assign(fields, stdSerializers.err(err));
  return fields;
}

const SENSITIVE_SET: ReadonlySet<string> = new Set(SENSITIVE_FIELDS);

export interface LoggerConfig {
  service: string;
  level?: string;
  /** Extra bindings on every line (e.g. instance id). */
  bindings?: Record<string, string | number>;
  destination?: DestinationStream;
}

export type { Logger };

/** JSON logs with patient identifiers and secrets redacted at any depth, one per service instance. */
export function createLogger({ service, level = 'info', bindings = {}, destination }: LoggerConfig): Logger {
  const options: LoggerOptions = {
    level,
    base: { service, ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
        // An error already censored by the walk below arrives as a plain object: keep it as it is.
    serializers: { err: (err: unknown) => (err instanceof Error ? redactDeep(stdSerializers.err(err)) : err) },
    formatters: {
      level: (label) => ({ level: label }),
      bindings: redactBindings,
      log: (object) => redactDeep(object) as Plain,
    },
  };
  const logger = destination ? pino(options, destination) : pino(options);
  // Pino gives children a bindings formatter that does nothing: hand ours to every child,
  // so `logger.child({ patientId })` is censored like a logged object.
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with each child as `this`
  const child = logger.child as unknown as (this: Logger, bindings: Plain, opts?: ChildOptions) => Logger;
  const redactingChild = function (this: Logger, bindings: Plain, opts?: ChildOptions): Logger {
    return child.call(this, bindings, { ...opts, formatters: { ...opts?.formatters, bindings: opts?.formatters?.bindings ?? redactBindings } });
  };
  logger.child = redactingChild as unknown as Logger['child'];
  return logger;
}
