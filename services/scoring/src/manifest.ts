// The scoring service as the launcher, the stack and the tools know it.
import { defineService } from '@ehr/bus';
import { loadConfig, ScoringEnv } from './config.js';
import { createScoringService } from './service.js';

export const manifest = defineService({
  name: 'scoring',
  summary: 'Random Forest and NEWS2 severity scores: ehr.features.v1 → ehr.scores.v1',
  defaultPort: 3003,
  groupIdVariable: 'SCORING_GROUP_ID',
  clientId: 'scoring-service',
  stage: true,
  env: ScoringEnv,
  loadConfig,
  create: createScoringService,
});
