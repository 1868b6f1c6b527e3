import { isAbsolute, resolve } from 'node:path';
import { AlertEngine, isShippedPolicy, loadPolicySync, type AlertPolicy } from '@ehr/alerts';
import type { Bus, Subscription } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { Authenticator, Counter, createMetricsRegistry, Gauge, Readiness, type HttpConfig, type Logger, type RunnableService } from '@ehr/runtime';
import { buildApp } from './app.js';
import { restoreAlertState } from './changelog.js';
import type { AlertingConfig } from './config.js';
import { createAlertingProcessor, type AlertingProcessor } from './processor.js';

export interface AlertingServiceDeps {
  config: Pick<AlertingConfig, 'ALERTING_GROUP_ID' | 'ALERTING_POLICY' | 'ALERTING_TICK_MS' | 'ALERTING_RESTORE_TIMEOUT_MS' | 'ALERTING_BODY_LIMIT_BYTES' | 'KAFKA_TOPIC_PARTITIONS'> &
    Partial<Pick<AlertingConfig, 'HOST' | 'ALLOW_INSECURE' | 'AUTH_INGEST_TOKENS' | 'AUTH_READ_TOKENS' | 'AUTH_ADMIN_TOKENS' | 'ALERTING_MAX_PATIENTS'>> &
    Partial<HttpConfig>;
  logger: Logger;
  bus: Bus;
  /** Where a relative ALERTING_POLICY path is read from. */
  cwd?: string;
  /** The clock (tests pass a fake one). */
  now?: () => Date;
  /** Tick by hand instead of on a timer (tests). */
  manualClock?: boolean;
}

/** Which shipped policy was tuned for a model (npm start picks it for the model it serves), or null. */
export { shippedPolicyFor } from '@ehr/alerts';

/** A shipped policy's name, or a file relative to the working directory. */
export function policyFrom(setting: string, cwd: string): AlertPolicy {
  return loadPolicySync(isShippedPolicy(setting) || isAbsolute(setting) ? setting : resolve(cwd, setting));
}

/** Wires the alerting service from its dependencies; `main.ts` (or `npm start`) runs it. */
export function createAlertingService({ config, logger, bus, cwd = process.cwd(), now = () => new Date(), manualClock = false }: AlertingServiceDeps): RunnableService & {
  readiness: Readiness;
  engine: AlertEngine;
  processor: AlertingProcessor;
  /** Runs the clock once (what the timer does every ALERTING_TICK_MS). */
  tick(): Promise<void>;
} {
  // Read while assembling: a missing or invalid policy stops the start with its reason.
  const policy = policyFrom(config.ALERTING_POLICY, cwd);
  const metrics = createMetricsRegistry('alerting');
  const engine = new AlertEngine(policy);
  const readiness = new Readiness('alerting').register('bus', () => bus.status());
  const setConsumer = readiness.track('consumer', { state: 'down', detail: 'not started' });
  const setState = readiness.track('state', { state: 'down', detail: 'not restored' });
  readiness.register('policy', () => ({ state: 'up', detail: `${policy.name}@${policy.version}` }), { critical: false });
  const lag = new Gauge({ name: 'ehr_alerting_consumer_lag_records', help: 'scores behind the head of the topic', registers: [metrics] });
  const unreadable = new Counter({ name: 'ehr_alerting_changelog_unreadable_total', help: 'changelog records a restore could not read (that patient or unit started afresh; logged with its position)', registers: [metrics] });

  const processor = createAlertingProcessor({ bus, logger, metrics, engine, policy, now, ...(config.ALERTING_MAX_PATIENTS ? { maxPatients: config.ALERTING_MAX_PATIENTS } : {}) });
  // Open alerts name patients: their doors need the read scope (open only on loopback without tokens).
  const auth = new Authenticator({ ALLOW_INSECURE: config.ALLOW_INSECURE ?? false, ...config }, { service: 'alerting', host: config.HOST ?? '127.0.0.1', logger, doors: ['read'] });
  const app = buildApp({ logger, metrics, readiness, engine, policy, processor, bodyLimit: config.ALERTING_BODY_LIMIT_BYTES, now, auth, http: config });
  let subscription: Subscription | null = null;
  let subscribedAt = 0;
  let timer: NodeJS.Timeout | null = null;
  let ticking: Promise<unknown> = Promise.resolve();

  // Overdue observations are judged only once the scores backlog is read: a restart must not
  // flag a patient whose observations are waiting in the topic. Kafka reports lag after its
  // first fetch, so one tick interval passes first.
  const caughtUp = () => subscription !== null && subscription.lag() === 0 && now().getTime() - subscribedAt >= config.ALERTING_TICK_MS;

  const tick = async () => {
    if (!subscription) return;
    lag.set(subscription.lag());
    await processor.tick({ overdue: caughtUp() });
  };

  return {
    app,
    readiness,
    engine,
    processor,
    tick,
    async start() {
      await bus.connect();
      const partitions = config.KAFKA_TOPIC_PARTITIONS;
      await bus.ensureTopics([
        { topic: TOPICS.scores, partitions },
        { topic: TOPICS.alerts, partitions },
        { topic: TOPICS.alertState, partitions, compacted: true },
        { topic: TOPICS.deadLetter, partitions },
      ]);
      setState({ state: 'down', detail: `restoring from ${TOPICS.alertState}` });
      const restored = await restoreAlertState({ bus, logger, partitions, groupPrefix: config.ALERTING_GROUP_ID, timeoutMs: config.ALERTING_RESTORE_TIMEOUT_MS });
      for (const s of restored.states) engine.restore(s);
      for (const b of restored.budgets) engine.restoreBudget(b);
      unreadable.inc(restored.unreadable);
      logger.info({ patients: restored.states.length, openAlerts: engine.openAlerts().length, unreadable: restored.unreadable }, 'alert state restored');
      setState({ state: 'up', detail: `${engine.patients} patients restored from ${TOPICS.alertState}` });
      subscription = await bus.subscribe({ groupId: config.ALERTING_GROUP_ID, topics: [TOPICS.scores], handler: (batch) => processor.handle(batch) });
      subscribedAt = now().getTime();
      setConsumer({ state: 'up', detail: `group ${config.ALERTING_GROUP_ID}` });
      if (!manualClock) {
        timer = setInterval(() => {
          ticking = tick().catch((err: unknown) => logger.warn({ err }, 'clock tick not published; it is tried again at the next tick'));
        }, config.ALERTING_TICK_MS);
        timer.unref();
      }
    },
    async stop() {
      setConsumer({ state: 'down', detail: 'stopping' });
      if (timer) clearInterval(timer);
      await ticking;
      // Waits for the batch in hand (its events and state are published before it returns), then commits.
      await subscription?.stop();
      await bus.close();
    },
  };
}
