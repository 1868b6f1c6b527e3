import { createBus, listenService, MemoryBroker, readyLineOf, type Env } from '@ehr/bus';
import { prepareDefaultModel } from '@ehr/init';
import { createLogger, type Logger } from '@ehr/runtime';
import { portVariableOf, SERVICES } from './services.js';
import { startSummary } from './summary.js';

export interface PipelineOptions {
  env: Env;
  /** Where the one-line status messages go (the terminal). */
  say: (line: string) => void;
  /** Where services' JSON logs go; defaults to stderr at LOG_LEVEL (warn). */
  logDestination?: NodeJS.WritableStream;
  /** Train the default model first when MODEL_PATH holds no artifact (npm start does; default off). */
  defaultModel?: boolean;
  /** Print a live one-line summary (events/s, patients, patients per band) this often. */
  summary?: { intervalMs: number; show: (line: string) => void; onFirstScore?: (line: string) => void };
}

export interface RunningPipeline {
  urls: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Runs every service of the list in one process. Each keeps its own bus client, registry
 * and logger, exactly as it would alone; on the in-memory bus they share one broker.
 */
export async function startPipeline({ env, say, logDestination, defaultModel = false, summary }: PipelineOptions): Promise<RunningPipeline> {
  const memoryBroker = env.KAFKA_BROKERS ? undefined : new MemoryBroker();
  const level = env.LOG_LEVEL ?? 'warn';
  const loggerFor = (service: string): Logger => createLogger({ service, level, destination: logDestination ?? process.stderr });
  const envFor = (name: string, port: number): Env => ({ ...env, PORT: env[portVariableOf(name)] ?? String(port), LOG_LEVEL: level });
  const wiring = { cwd: process.cwd(), logLevel: level, logDestination: logDestination ?? process.stderr, ...(memoryBroker ? { memoryBroker } : {}) };

  // A one-shot step before any service starts, so scoring loads the model at once.
  if (defaultModel) await prepareDefaultModel(env, say);

  const started: { name: string; stop: () => Promise<boolean> }[] = [];
  const urls: Record<string, string> = {};
  const stages = SERVICES.filter((s) => s.stage);
  const peers = () => Object.fromEntries(stages.filter((s) => urls[s.name]).map((s) => [s.name, urls[s.name]!]));

  // Downstream first, so nothing is produced before its consumer is there; the dashboard,
  // last in the list, starts first: it only reads the scores topic, so it sees every score.
  for (const manifest of [...SERVICES].reverse()) {
    try {
      const running = await listenService(manifest, envFor(manifest.name, manifest.defaultPort), { ...wiring, peers });
      started.push({ name: manifest.name, stop: () => running.shutdown.run('pipeline stopping') });
      urls[manifest.name] = running.url;
    } catch (err) {
      for (const s of started.reverse()) await s.stop();
      throw err;
    }
  }
  for (const manifest of SERVICES) say(readyLineOf(manifest, urls[manifest.name]!));

  let summarizer: { stop(): Promise<void> } | null = null;
  if (summary) {
    const config = SERVICES[0].checkConfig(envFor(SERVICES[0].name, SERVICES[0].defaultPort));
    const logger = loggerFor('pipeline');
    const bus = createBus(config, { clientId: 'pipeline-summary', logger, ...(memoryBroker ? { memoryBroker } : {}) });
    await bus.connect();
    const running = await startSummary({
      bus,
      show: summary.show,
      intervalMs: summary.intervalMs,
      ...(summary.onFirstScore ? { onFirstScore: summary.onFirstScore } : {}),
      ...(urls.sink ? { sinkUrl: urls.sink } : {}),
    });
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
