// The dashboard as the launcher, the stack and the tools know it.
import { defineService } from '@ehr/bus';
import { DashboardEnv, loadConfig } from './config.js';
import { createDashboardService } from './service.js';

export const manifest = defineService({
  name: 'dashboard',
  summary: 'the live ward view (server-sent events from ehr.scores.v1)',
  defaultPort: 3000,
  groupIdVariable: 'DASHBOARD_GROUP_ID',
  clientId: 'dashboard',
  stage: false,
  env: DashboardEnv,
  loadConfig,
  // In the all-in-one launcher the health chips follow the other services' actual addresses.
  create: ({ peers, ...deps }) => createDashboardService({ ...deps, ...(peers ? { serviceHealthUrls: peers } : {}) }),
  readyLine: (url) => `dashboard: ${url}/`,
  peersVariable: 'DASHBOARD_SERVICE_URLS',
});
