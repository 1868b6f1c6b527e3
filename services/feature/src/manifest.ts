// The feature service as the launcher, the stack and the tools know it.
import { defineService } from '@ehr/bus';
import { FeatureEnv, loadConfig } from './config.js';
import { createFeatureService } from './service.js';

export const manifest = defineService({
  name: 'feature',
  summary: 'per-patient state and feature vectors: ehr.events.v1 → ehr.features.v1',
  defaultPort: 3002,
  groupIdVariable: 'FEATURE_GROUP_ID',
  clientId: 'feature-service',
  stage: true,
  env: FeatureEnv,
  loadConfig,
  create: createFeatureService,
});
