import { BusEnv } from '@ehr/bus';
import { portEnv, readConfig, ServiceEnv, type Static } from '@ehr/runtime';
import { Type } from '@sinclair/typebox';

export const FeatureEnv = Type.Composite([
  ServiceEnv,
  portEnv(3002),
  BusEnv,
  Type.Object({
    FEATURE_GROUP_ID: Type.String({ minLength: 1, default: 'feature-service', description: 'consumer group of the feature service' }),
  }),
]);
export type FeatureConfig = Static<typeof FeatureEnv>;

export const loadConfig = (env: Readonly<Record<string, string | undefined>>): FeatureConfig => readConfig(FeatureEnv, env, 'feature');
