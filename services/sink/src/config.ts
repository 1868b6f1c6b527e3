import { BusEnv } from '@ehr/bus';
import { portEnv, readConfig, ServiceEnv, type Static } from '@ehr/runtime';
import { Type } from '@sinclair/typebox';

export const SinkEnv = Type.Composite([
  ServiceEnv,
  portEnv(3004),
  BusEnv,
  Type.Object({
    SINK_GROUP_ID: Type.String({ minLength: 1, default: 'sink', description: 'consumer group of the sink service' }),
  }),
]);
export type SinkConfig = Static<typeof SinkEnv>;

export const loadConfig = (env: Readonly<Record<string, string | undefined>>): SinkConfig => readConfig(SinkEnv, env, 'sink');
