import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

// Field names that carry a patient identifier or a secret wherever they appear. A Kafka
// message key is the patient id in this pipeline, so keys are redacted too.
const SENSITIVE_FIELDS = [
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
  'accessToken',
  'masterToken',
  'adminToken',
  'secret',
  'authorization',
  'cookie',
];

const DEPTH = 3;

export function redactionPaths(fields: readonly string[] = SENSITIVE_FIELDS): string[] {
  const paths: string[] = [];
  for (const field of fields) {
    for (let depth = 0; depth < DEPTH; depth++) paths.push([...Array<string>(depth).fill('*'), field].join('.'));
  }
  paths.push('req.headers.authorization', 'req.headers["x-admin-token"]', 'req.headers.cookie');
  return paths;
}

export interface LoggerConfig {
  service: string;
  level?: string;
  /** Extra bindings on every line (e.g. instance id). */
  bindings?: Record<string, string | number>;
  destination?: DestinationStream;
}

export type { Logger };

/** JSON logs with patient identifiers and secrets redacted, one per service instance. */
export function createLogger({ service, level = 'info', bindings = {}, destination }: LoggerConfig): Logger {
  const options: LoggerOptions = {
    level,
    base: { service, ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactionPaths(), censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}
