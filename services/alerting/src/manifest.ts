// The alerting service as the launcher, the stack and the tools know it.
import { defineService } from '@ehr/bus';
import { AlertingEnv, loadConfig } from './config.js';
import { createAlertingService } from './service.js';

export const manifest = defineService({
  name: 'alerting',
  summary: 'Alert policy per patient: ehr.scores.v1 → ehr.alerts.v1, open alerts, acknowledge and dismiss',
  defaultPort: 3005,
  groupIdVariable: 'ALERTING_GROUP_ID',
  clientId: 'alerting-service',
  // Not one of the four stages a clinical event flows through to the warehouse: it acts on their output.
  stage: false,
  env: AlertingEnv,
  loadConfig,
  create: createAlertingService,
});
