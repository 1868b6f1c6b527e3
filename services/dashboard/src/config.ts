import { BusEnv, ConsumerEnv } from '@ehr/bus';
import { ConfigError, portEnv, readConfig, ServiceEnv, type Static } from '@ehr/runtime';
import { Type } from '@sinclair/typebox';

export const DashboardEnv = Type.Composite([
  ServiceEnv,
  portEnv(3000),
  BusEnv,
  ConsumerEnv,
  Type.Object({
    DASHBOARD_GROUP_ID: Type.String({
      minLength: 1,
      default: 'dashboard',
      description: 'consumer group of the dashboard (give each dashboard replica its own: the group splits partitions between members)',
    }),
    DASHBOARD_SERVICE_URLS: Type.String({
      default: '',
      description:
        'services whose /health/ready the page shows: comma-separated name=baseUrl pairs (empty entries ignored); npm start, npm run stack and compose set it',
    }),
    DASHBOARD_HEALTH_INTERVAL_MS: Type.Integer({ minimum: 250, default: 5_000, description: 'how often the services are polled' }),
    DASHBOARD_PUSH_INTERVAL_MS: Type.Integer({ minimum: 20, maximum: 10_000, default: 250, description: 'updates to browsers are coalesced and sent at most this often' }),
    DASHBOARD_HISTORY_POINTS: Type.Integer({ minimum: 2, maximum: 10_000, default: 120, description: 'scores kept per patient for the time series' }),
    DASHBOARD_SPARK_POINTS: Type.Integer({ minimum: 2, maximum: 1_000, default: 40, description: 'points per sparkline sent to the ward view' }),
    DASHBOARD_MAX_PATIENTS: Type.Integer({ minimum: 1, default: 5_000, description: 'patients kept in memory; the longest idle are evicted past it' }),
    DASHBOARD_PATIENT_TTL_MS: Type.Integer({ minimum: 1_000, default: 12 * 3_600_000, description: 'a patient with no new score for this long leaves the ward view' }),
    DASHBOARD_ALERT_TTL_MS: Type.Integer({ minimum: 1_000, default: 30 * 60_000, description: 'how long a band-rise alert stays on the page' }),
  }),
]);
export type DashboardConfig = Static<typeof DashboardEnv>;

export const loadConfig = (env: Readonly<Record<string, string | undefined>>): DashboardConfig => {
  const config = readConfig(DashboardEnv, env, 'dashboard');
  parseServiceUrls(config.DASHBOARD_SERVICE_URLS); // fail fast on a malformed list
  return config;
};

export interface ServiceUrl {
  name: string;
  /** Base URL; the readiness probe is `${url}/health/ready`. */
  url: string;
}

/** `producer=http://127.0.0.1:3001,feature=…` → [{ name, url }]. */
export function parseServiceUrls(text: string): ServiceUrl[] {
  const entries: ServiceUrl[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    const name = eq > 0 ? item.slice(0, eq).trim() : '';
    const url = eq > 0 ? item.slice(eq + 1).trim().replace(/\/+$/, '') : '';
    let valid = /^[A-Za-z0-9_.-]+$/.test(name);
    try {
      const parsed = new URL(url);
      valid &&= parsed.protocol === 'http:' || parsed.protocol === 'https:';
    } catch {
      valid = false;
    }
    if (!valid) {
      const message = `expected name=http://host:port, got ${JSON.stringify(item)}`;
      throw new ConfigError(`invalid configuration for dashboard:\n  DASHBOARD_SERVICE_URLS: ${message}`, [{ variable: 'DASHBOARD_SERVICE_URLS', message }]);
    }
    entries.push({ name, url });
  }
  return entries;
}
