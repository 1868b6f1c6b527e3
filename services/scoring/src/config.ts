import { BusEnv } from '@ehr/bus';
import { portEnv, readConfig, ServiceEnv, type Static } from '@ehr/runtime';
import { Type } from '@sinclair/typebox';

export const ScoringEnv = Type.Composite([
  ServiceEnv,
  portEnv(3003),
  BusEnv,
  Type.Object({
    SCORING_GROUP_ID: Type.String({ minLength: 1, default: 'scoring-service', description: 'consumer group of the scoring service' }),
  }),
]);
export type ScoringConfig = Static<typeof ScoringEnv>;

export const loadConfig = (env: Readonly<Record<string, string | undefined>>): ScoringConfig => readConfig(ScoringEnv, env, 'scoring');
