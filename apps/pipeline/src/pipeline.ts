import { createBus, MemoryBroker, type Bus, type BusEnv } from '@ehr/bus';
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

/** The four stages, in flow order (the order of the ready lines). */
const SERVICES = ['producer', 'feature', 'scoring', 'sink'] as const;

const PORTS: Record<string, { port: number; portVar: string }> = {
  producer: { port: 3001, portVar: 'PRODUCER_PORT' },
  feature: { port: 3002, portVar: 'FEATURE_PORT' },
  scoring: { port: 3003, portVar: 'SCORING_PORT' },
  sink: { port: 3004, portVar: 'SINK_PORT' },
  dashboard: { port: 3000, portVar: 'DASHBOARD_PORT' },
};

/** What every service's config has, enough to wire its bus and listen. */
type ListenableConfig = BusEnv & { HOST: string; PORT: number; SHUTDOWN_TIMEOUT_MS: number };

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

  // Before any service starts, so scoring loads the model at once (scoring's own MODEL_PATH default).
  if (defaultModel) await ensureDefaultModel({ path: scoringConfig(envFor('SCORING_PORT', 3003)).MODEL_PATH, say, env });

  const started: { name: string; stop: () => Promise<boolean> }[] = [];
  const urls: Record<string, string> = {};

  /** Config from the env (with this service's port), its own logger and bus client, then listen and start. */
  const launch = async <C extends ListenableConfig>(
    name: string,
    load: (env: Env) => C,
    make: (deps: { config: C; logger: Logger; bus: Bus }) => RunnableService,
  ): Promise<void> => {
    const { portVar, port } = PORTS[name]!;
    try {
      const config = load(envFor(portVar, port));
      const logger = loggerFor(name);
      const service = make({ config, logger, bus: createBus(config, wiring(name, logger)) });
      const { url, shutdown } = await startAndListen(service, { service: name, host: config.HOST, port: config.PORT, logger, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS });
      started.push({ name, stop: () => shutdown.run('pipeline stopping') });
      urls[name] = url;
    } catch (err) {
      for (const s of started.reverse()) await s.stop();
      throw err;
    }
  };

  // The dashboard first: it only reads the scores topic, so it sees every score from the
  // start; it shows the health of the four services once they listen.
  const serviceHealthUrls = () => Object.fromEntries(SERVICES.filter((s) => urls[s]).map((s) => [s, urls[s]!]));
  await launch('dashboard', dashboardConfig, (deps) => createDashboardService({ ...deps, serviceHealthUrls }));
  // Downstream first, so nothing is produced before its consumer is there.
  await launch('sink', sinkConfig, createSinkService);
  await launch('scoring', scoringConfig, createScoringService);
  await launch('feature', featureConfig, createFeatureService);
  await launch('producer', producerConfig, createProducerService);
  for (const name of SERVICES) say(`${name} ready: ${urls[name]}/health/ready`);
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
