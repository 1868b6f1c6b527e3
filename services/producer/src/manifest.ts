// The producer as the launcher, the stack and the tools know it.
import { defineService } from '@ehr/bus';
import { loadConfig, ProducerEnv } from './config.js';
import { createProducerService } from './service.js';

export const manifest = defineService({
  name: 'producer',
  summary: 'intake (POST /events, FHIR R4) and replays onto ehr.events.v1',
  defaultPort: 3001,
  groupIdVariable: null,
  clientId: 'producer',
  stage: true,
  env: ProducerEnv,
  loadConfig,
  create: createProducerService,
});
