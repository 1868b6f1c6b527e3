import { createBus, MemoryBroker } from '@ehr/bus';
import { createDashboardService, loadConfig as dashboardConfig } from '@ehr/dashboard';
import { createFeatureService, loadConfig as featureConfig } from '@ehr/feature';
import { createProducerService, loadConfig as producerConfig } from '@ehr/producer';
import { createLogger, startAndListen, type Logger, type RunnableService } from '@ehr/runtime';
import { createScoringService, loadConfig as scoringConfig } from '@ehr/scoring';
import { createSinkService, loadConfig as sinkConfig } from '@ehr/sink';
import { ensureDefaultModel } from '@ehr/training';
import { startSummary } from './summary.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface PipelineOptions {
  env: Env;
  /** Where the one-line status messages go (the terminal). */
  say: (line: string) => void;
  /** Where services' JSON logs go; defaults to stderr at LOG_LEVEL (warn). */
  logDestination?: NodeJS.WritableStream;
  /** Train the default model first when MODEL_PATH holds no artifact (npm start does; default off). */
  defaultModel?: boolean;
  /** Print a live one-line summary (events/s, patients, patients per band) this often. */
  summary?: { intervalMs: number; show: (line: string) => void };
}

export interface RunningPipeline {
  urls: Record<string, string>;
  stop(): Promise<void>;
}

const SERVICES = [
  { name: 'producer', port: 3001, portVar: 'PRODUCER_PORT' },
  { name: 'feature', port: 3002, portVar: 'FEATURE_PORT' },
  { name: 'scoring', port: 3003, portVar: 'SCORING_PORT' },
  { name: 'sink', port: 3004, portVar: 'SINK_PORT' },
] as const;

type ServiceName = (typeof SERVICES)[number]['name'];

/**
 * Runs the four services in one process. Each keeps its own bus client, registry and
 * logger, exactly as it would alone; on the in-memory bus they share one broker.
 */
export async function startPipeline({ env, say, logDestination, defaultModel = false, summary }: PipelineOptions): Promise<RunningPipeline> {
  const memoryBroker = env.KAFKA_BROKERS ? undefined : new MemoryBroker();
  const level = env.LOG_LEVEL ?? 'warn';
  const loggerFor = (service: string): Logger =>
    createLogger({ service, level, destination: logDestination ?? process.stderr });

  const envFor = (portVar: string, port: number): Env => ({ ...env, PORT: env[portVar] ?? String(port), LOG_LEVEL: level });
  const wiring = (service: string, logger: Logger) => ({ clientId: `${service}-service`, logger, ...(memoryBroker ? { memoryBroker } : {}) });

  const create: Record<ServiceName, (portVar: string, port: number) => { service: RunnableService; host: string; port: number; timeout: number; logger: Logger }> = {
    producer: (portVar, port) => {
      const config = producerConfig(envFor(portVar, port));
      const logger = loggerFor('producer');
      return { service: createProducerService({ config, logger, bus: createBus(config, wiring('producer', logger)) }), host: config.HOST, port: config.PORT, timeout: config.SHUTDOWN_TIMEOUT_MS, logger };
    },
    feature: (portVar, port) => {
      const config = featureConfig(envFor(portVar, port));
      const logger = loggerFor('feature');
      return { service: createFeatureService({ config, logger, bus: createBus(config, wiring('feature', logger)) }), host: config.HOST, port: config.PORT, timeout: config.SHUTDOWN_TIMEOUT_MS, logger };
    },
    scoring: (portVar, port) => {
      const config = scoringConfig(envFor(portVar, port));
      const logger = loggerFor('scoring');
      return { service: createScoringService({ config, logger, bus: createBus(config, wiring('scoring', logger)) }), host: config.HOST, port: config.PORT, timeout: config.SHUTDOWN_TIMEOUT_MS, logger };
    },
    sink: (portVar, port) => {
      const config = sinkConfig(envFor(portVar, port));
      const logger = loggerFor('sink');
      return { service: createSinkService({ config, logger, bus: createBus(config, wiring('sink', logger)) }), host: config.HOST, port: config.PORT, timeout: config.SHUTDOWN_TIMEOUT_MS, logger };
    },
  };

  // Before any service starts, so scoring loads the model at once (scoring's own MODEL_PATH default).
  if (defaultModel) await ensureDefaultModel({ path: scoringConfig(envFor('SCORING_PORT', 3003)).MODEL_PATH, say, env });

  const started: { name: string; stop: () => Promise<boolean> }[] = [];
  const urls: Record<string, string> = {};

  // The dashboard first: it only reads the scores topic, so it sees every score from the
  // start; it shows the health of the four services once they listen.
  {
    const config = dashboardConfig(envFor('DASHBOARD_PORT', 3000));
    const logger = loggerFor('dashboard');
    const serviceHealthUrls = () => Object.fromEntries(SERVICES.filter((s) => urls[s.name]).map((s) => [s.name, urls[s.name]!]));
    const service = createDashboardService({ config, logger, bus: createBus(config, wiring('dashboard', logger)), serviceHealthUrls });
    const { url, shutdown } = await startAndListen(service, { service: 'dashboard', host: config.HOST, port: config.PORT, logger, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS });
    started.push({ name: 'dashboard', stop: () => shutdown.run('pipeline stopping') });
    urls.dashboard = url;
  }
  // Downstream first, so nothing is produced before its consumer is there.
  for (const { name, port, portVar } of [...SERVICES].reverse()) {
    const built = create[name](portVar, port);
    try {
      const { url, shutdown } = await startAndListen(built.service, {
        service: name,
        host: built.host,
        port: built.port,
        logger: built.logger,
        shutdownTimeoutMs: built.timeout,
      });
      started.push({ name, stop: () => shutdown.run('pipeline stopping') });
      urls[name] = url;
    } catch (err) {
      for (const s of started.reverse()) await s.stop();
      throw err;
    }
  }
  for (const { name } of SERVICES) say(`${name} ready: ${urls[name]}/health/ready`);
  say(`dashboard: ${urls.dashboard}/`);

  let summarizer: { stop(): Promise<void> } | null = null;
  if (summary) {
    const config = producerConfig(envFor('PRODUCER_PORT', 3001));
    const logger = loggerFor('pipeline');
    const bus = createBus(config, wiring('pipeline-summary', logger));
    await bus.connect();
    const running = await startSummary({ bus, show: summary.show, intervalMs: summary.intervalMs, ...(urls.sink ? { sinkUrl: urls.sink } : {}) });
    summarizer = {
      stop: async () => {
        await running.stop();
        await bus.close();
      },
    };
  }

  return {
    urls,
    // Upstream first: stop producing, then let each stage drain and commit.
    async stop() {
      await summarizer?.stop();
      for (const s of [...started].reverse()) await s.stop();
    },
  };
}
