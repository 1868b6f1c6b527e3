// The sink as the launcher, the stack and the tools know it.
import { defineService } from '@ehr/bus';
import { loadConfig, SinkEnv } from './config.js';
import { createSinkService } from './service.js';

export const manifest = defineService({
  name: 'sink',
  summary: 'lands scores and dead letters exactly once in DuckDB or Snowflake',
  defaultPort: 3004,
  groupIdVariable: 'SINK_GROUP_ID',
  clientId: 'sink',
  stage: true,
  env: SinkEnv,
  loadConfig,
  create: createSinkService,
});
