import { BusEnv } from '@ehr/bus';
import { portEnv, readConfig, ServiceEnv, type Static } from '@ehr/runtime';
import { Type } from '@sinclair/typebox';

export const ProducerEnv = Type.Composite([
  ServiceEnv,
  portEnv(3001),
  BusEnv,
  Type.Object({
    PRODUCER_BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 5 * 1024 * 1024, description: 'largest accepted HTTP request body' }),
    PRODUCER_MAX_BATCH_EVENTS: Type.Integer({ minimum: 1, default: 10_000, description: 'most events accepted in one POST /events' }),
  }),
]);
export type ProducerConfig = Static<typeof ProducerEnv>;

export const loadConfig = (env: Readonly<Record<string, string | undefined>>): ProducerConfig => readConfig(ProducerEnv, env, 'producer');
