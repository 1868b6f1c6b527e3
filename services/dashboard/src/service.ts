import { PartitionProgress, RecordIsolation, type Bus, type RecordBatch, type Subscription } from '@ehr/bus';
import { buildDeadLetter, decodeSeverityScore, jsonPartOf, peekIds, TOPICS, type DeadLetter } from '@ehr/features';
import { Authenticator, Counter, createMetricsRegistry, Gauge, Readiness, type HttpConfig, type Logger, type RunnableService } from '@ehr/runtime';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { parseServiceUrls, type DashboardConfig, type ServiceUrl } from './config.js';
import { HealthPoller } from './health.js';
import { Sessions } from './session.js';
import { WardStream } from './stream.js';
import { WardState } from './ward.js';

export interface DashboardServiceDeps {
  config: Pick<
    DashboardConfig,
    | 'DASHBOARD_GROUP_ID'
    | 'KAFKA_TOPIC_PARTITIONS'
    | 'DASHBOARD_SERVICE_URLS'
    | 'DASHBOARD_HEALTH_INTERVAL_MS'
    | 'DASHBOARD_PUSH_INTERVAL_MS'
    | 'DASHBOARD_HISTORY_POINTS'
    | 'DASHBOARD_SPARK_POINTS'
    | 'DASHBOARD_MAX_PATIENTS'
    | 'DASHBOARD_PATIENT_TTL_MS'
    | 'DASHBOARD_ALERT_TTL_MS'
    | 'DASHBOARD_SESSION_TTL_MS'
    | 'DASHBOARD_SSE_MAX_CLIENTS'
    | 'DASHBOARD_SSE_MAX_PER_ADDRESS'
    | 'DASHBOARD_SSE_MAX_BUFFER_BYTES'
    | 'DASHBOARD_MAX_ALERTS'
    | 'HOST'
    | 'ALLOW_INSECURE'
  > &
    Partial<HttpConfig> &
    Partial<Pick<DashboardConfig, 'AUTH_INGEST_TOKENS' | 'AUTH_READ_TOKENS' | 'AUTH_ADMIN_TOKENS'>> &
    Partial<Pick<DashboardConfig, 'CONSUMER_MAX_ATTEMPTS' | 'CONSUMER_STALL_SECONDS'>>;
  logger: Logger;
  bus: Bus;
  /**
   * Services whose readiness the page shows (name → base URL); overrides
   * DASHBOARD_SERVICE_URLS. A function is asked on every poll (for URLs known only once
   * those services listen, as in `npm start`).
   */
  serviceHealthUrls?: Readonly<Record<string, string>> | (() => Readonly<Record<string, string>>);
}

export interface DashboardService extends RunnableService {
  readiness: Readiness;
  ward: WardState;
  stream: WardStream;
  health: HealthPoller;
  app: FastifyInstance;
}

/**
 * Wires the dashboard from its dependencies; `main.ts` (or `npm start`) runs it.
 *
 * Live semantics: the group (`DASHBOARD_GROUP_ID`) starts at the end of the scores topic
 * the first time (`fromBeginning: false`) and commits as it goes, so a restarted dashboard
 * catches up from where it stopped; scores whose broker time is older than the patient
 * TTL are skipped on the way (they would be evicted at once). The in-memory bus of
 * `npm start` is new on every start, so there the page fills as scores arrive.
 */
export function createDashboardService({ config, logger, bus, serviceHealthUrls }: DashboardServiceDeps): DashboardService {
  const metrics = createMetricsRegistry('dashboard');
  const readiness = new Readiness('dashboard').register('bus', () => bus.status());
  const setConsumer = readiness.track('consumer', { state: 'down', detail: 'not started' });

  const ward = new WardState({
    historyPoints: config.DASHBOARD_HISTORY_POINTS,
    maxPatients: config.DASHBOARD_MAX_PATIENTS,
    patientTtlMs: config.DASHBOARD_PATIENT_TTL_MS,
    alertTtlMs: config.DASHBOARD_ALERT_TTL_MS,
    maxAlerts: config.DASHBOARD_MAX_ALERTS,
  });
  const toList = (urls: Readonly<Record<string, string>>): ServiceUrl[] =>
    Object.entries(urls).map(([name, url]) => ({ name, url: url.replace(/\/+$/, '') }));
  const services: ServiceUrl[] | (() => ServiceUrl[]) =
    typeof serviceHealthUrls === 'function'
      ? () => toList(serviceHealthUrls())
      : serviceHealthUrls
        ? toList(serviceHealthUrls)
        : parseServiceUrls(config.DASHBOARD_SERVICE_URLS);
  const health = new HealthPoller({ services, intervalMs: config.DASHBOARD_HEALTH_INTERVAL_MS, logger });
  const stream = new WardStream({
    ward,
    health: () => health.list(),
    logger,
    metrics,
    intervalMs: config.DASHBOARD_PUSH_INTERVAL_MS,
    sparkPoints: config.DASHBOARD_SPARK_POINTS,
    maxClients: config.DASHBOARD_SSE_MAX_CLIENTS,
    maxPerAddress: config.DASHBOARD_SSE_MAX_PER_ADDRESS,
    maxBufferedBytes: config.DASHBOARD_SSE_MAX_BUFFER_BYTES,
  });
  health.onChange(() => stream.markHealthChanged());

  const scores = new Counter({ name: 'ehr_dashboard_scores_total', help: 'scores consumed, by outcome', labelNames: ['outcome'], registers: [metrics] });
  new Gauge({
    name: 'ehr_dashboard_patients',
    help: 'patients on the ward view',
    registers: [metrics],
    collect() {
      this.set(ward.size);
    },
  });
  const auth = new Authenticator(config, { service: 'dashboard', host: config.HOST, logger, doors: ['read'] });
  const sessions = new Sessions(auth, config.DASHBOARD_SESSION_TTL_MS);
  // The alerting service is the `alerting` entry of the same list the health panel polls.
  const alertingUrl = () => (typeof services === 'function' ? services() : services).find((s) => s.name === 'alerting')?.url ?? null;
  const app = buildApp({ logger, metrics, readiness, ward, stream, health, auth, sessions, alertingUrl, historyPoints: config.DASHBOARD_HISTORY_POINTS, http: config });
  const staleAfterMs = config.DASHBOARD_PATIENT_TTL_MS;

  // A score the ward cannot fold in (it throws) is redelivered a few times, then
  // dead-lettered as processing_error: the patients behind it on the partition still show.
  const isolation = new RecordIsolation({ maxAttempts: config.CONSUMER_MAX_ATTEMPTS ?? 3, logger, metrics });
  const progress = new PartitionProgress({ stallAfterMs: (config.CONSUMER_STALL_SECONDS ?? 60) * 1000, metrics });
  readiness.register('partitions', () => progress.status(), { critical: false });

  const handle = async (batch: RecordBatch): Promise<void> => {
    const now = Date.now();
    let invalid = 0;
    const letters: DeadLetter[] = [];
    for (const record of batch.records) {
      if (now - record.timestamp > staleAfterMs) {
        scores.inc({ outcome: 'stale' });
        continue;
      }
      const verdict = isolation.verdict(record);
      if (verdict.isolate) {
        let ids = {};
        try {
          ids = peekIds(JSON.parse(Buffer.from(jsonPartOf(record.value)).toString()));
        } catch {
          // not JSON: no ids to keep
        }
        letters.push(buildDeadLetter(record, { service: 'dashboard', reason: 'processing_error', error: `threw on each of ${verdict.attempts} attempts: ${verdict.error}`, ...ids }));
        continue;
      }
      const decoded = decodeSeverityScore(record.value);
      if (!decoded.ok) {
        invalid++;
        continue;
      }
      scores.inc({ outcome: isolation.run(record, () => ward.apply(decoded.value, now)) });
    }
    if (letters.length > 0) {
      await bus.produce(TOPICS.deadLetter, letters.map((d) => ({ key: d.patientId ?? 'unknown', value: JSON.stringify(d) })));
      scores.inc({ outcome: 'dead_lettered' }, letters.length);
    }
    isolation.settled(batch.records);
    if (invalid > 0) {
      // The sink dead-letters bad scores; the dashboard only counts and skips them (no ids logged).
      scores.inc({ outcome: 'invalid' }, invalid);
      logger.warn({ count: invalid, topic: batch.topic, partition: batch.partition }, 'skipped invalid scores');
    }
  };

  let subscription: Subscription | null = null;
  return {
    app,
    readiness,
    ward,
    stream,
    health,
    async start() {
      stream.start();
      health.start();
      await bus.connect();
      await bus.ensureTopics([TOPICS.scores, TOPICS.deadLetter].map((topic) => ({ topic, partitions: config.KAFKA_TOPIC_PARTITIONS })));
      subscription = await bus.subscribe({ groupId: config.DASHBOARD_GROUP_ID, topics: [TOPICS.scores], fromBeginning: false, handler: progress.wrap(handle) });
      progress.attach(subscription);
      setConsumer({ state: 'up', detail: `group ${config.DASHBOARD_GROUP_ID}` });
    },
    async stop() {
      setConsumer({ state: 'down', detail: 'stopping' });
      stream.stop();
      await health.stop();
      await subscription?.stop();
      await bus.close();
    },
  };
}
