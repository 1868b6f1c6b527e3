import { BusEnv, ConsumerEnv } from '@ehr/bus';
import { AuthEnv, ConfigError, portEnv, readConfig, ServiceEnv, type Static } from '@ehr/runtime';
import { Type } from '@sinclair/typebox';

export const DashboardEnv = Type.Composite([
  ServiceEnv,
  portEnv(3000),
  BusEnv,
  AuthEnv,
  ConsumerEnv,
  Type.Object({
    DASHBOARD_SESSION_TTL_MS: Type.Integer({
      minimum: 60_000,
      maximum: 7 * 24 * 3_600_000,
      default: 12 * 3_600_000,
      description: 'how long a browser stays signed in after the login form (its HttpOnly, SameSite=Strict cookie)',
    }),
    DASHBOARD_SSE_MAX_CLIENTS: Type.Integer({ minimum: 1, maximum: 100_000, default: 200, description: 'open live pages (event streams) at most; past it 503 with Retry-After' }),
    DASHBOARD_SSE_MAX_PER_ADDRESS: Type.Integer({ minimum: 1, maximum: 10_000, default: 10, description: 'open live pages from one client address at most; past it 429 with Retry-After' }),
    DASHBOARD_SSE_MAX_BUFFER_BYTES: Type.Integer({
      minimum: 65_536,
      maximum: 64 * 1024 * 1024,
      default: 1024 * 1024,
      description: 'a page with more than this waiting unsent (beyond the one snapshot it is being sent) is too slow and is closed',
    }),
    DASHBOARD_MAX_ALERTS: Type.Integer({ minimum: 1, maximum: 100_000, default: 500, description: 'band-rise alerts kept (a ring: the oldest leave first)' }),
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
    DASHBOARD_HISTORY_POINTS: Type.Integer({ minimum: 2, maximum: 10_000, default: 120, description: 'scores kept per patient for the time series and GET /fhir/RiskAssessment (the recent history in memory)' }),
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
