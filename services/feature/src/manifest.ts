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
  // V8 grows its heap lazily under this allocation rate (to 450-650 MiB resident with 300 MiB
  // of garbage); capped, the service holds 50,000 patients or a 1 Hz monitor feed within
  // 300 MiB (tools/e2e bench:state). FEATURE_MAX_PATIENTS keeps the live heap under it.
  nodeFlags: ['--max-old-space-size=192'],
  env: FeatureEnv,
  loadConfig,
  create: createFeatureService,
});
