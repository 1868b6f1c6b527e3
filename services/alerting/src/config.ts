import { BusEnv } from '@ehr/bus';
import { AuthEnv, portEnv, readConfig, ServiceEnv, type Static } from '@ehr/runtime';
import { Type } from '@sinclair/typebox';

export const AlertingEnv = Type.Composite([
  ServiceEnv,
  portEnv(3005),
  BusEnv,
  AuthEnv,
  Type.Object({
    ALERTING_GROUP_ID: Type.String({ minLength: 1, default: 'alerting', description: 'consumer group of the alerting service' }),
    ALERTING_POLICY: Type.String({
      minLength: 1,
      default: 'default',
      description: 'alert policy: a JSON file (relative to the working directory) or a shipped policy by name (default, default-3000, news2-ge5, news2-ge7); unset under npm start, the shipped policy tuned for the model it serves, if any',
    }),
    ALERTING_TICK_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000, description: 'how often the clock checks escalations, overdue observations and patients who left' }),
    ALERTING_RESTORE_TIMEOUT_MS: Type.Integer({ minimum: 1_000, default: 120_000, description: 'deadline for reading the alert state changelog at start' }),
    ALERTING_BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 16 * 1024, description: 'largest accepted HTTP request body' }),
    ALERTING_MAX_PATIENTS: Type.Integer({
      minimum: 1,
      default: 50_000,
      description: 'patients whose alert state is held; past it the least recently scored without an open alert are let go (their next score starts afresh)',
    }),
  }),
]);
export type AlertingConfig = Static<typeof AlertingEnv>;

export const loadConfig = (env: Readonly<Record<string, string | undefined>>): AlertingConfig => readConfig(AlertingEnv, env, 'alerting');
