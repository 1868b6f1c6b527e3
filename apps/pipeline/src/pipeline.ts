import { resolve } from 'node:path';
import { shippedPolicyFor } from '@ehr/alerting';
import { createBus, listenService, MemoryBroker, MemoryBus, readyLineOf, type Bus, type Env, type ListeningService } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { prepareDefaultModel } from '@ehr/init';
import { createLogger, errorMessage, type Logger } from '@ehr/runtime';
import { portVariableOf, SERVICES, STAGE_INPUTS } from './services.js';
import { resumeSpool, writeSpool, type SpoolReport, type StageInput } from './spool.js';
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
  /** Where the in-memory bus's undrained records are kept between runs (default `data/spool`). */
  spoolDir?: string;
}

export interface StopOptions {
  /** How long the stages get to drain, all together (default 60 s); what is left is kept on disk. */
  drainTimeoutMs?: number;
  /** How often progress is reported while draining (default 1 s). */
  progressEveryMs?: number;
}

export interface StopReport {
  /** Every stage consumed and committed everything before it stopped. */
  drained: boolean;
  /** What did not land, and where it is kept (in-memory bus: a file; Kafka: the topics themselves). */
  kept: SpoolReport;
}

export interface RunningPipeline {
  urls: Record<string, string>;
  /** What the last stop kept and this start put back on the bus (nothing: total 0). */
  resumed: SpoolReport;
  /**
   * Stops without losing what was accepted: intake closes first, then each stage in flow
   * order once it has consumed everything before it (with progress and a deadline), and
   * whatever is still not landed is kept for the next start.
   */
  stop(options?: StopOptions): Promise<StopReport>;
  /**
   * A second Ctrl-C: keeps every record not landed yet on disk now (synchronously) and
   * says how many and where; the process exits right after.
   */
  keepUnlanded(): SpoolReport;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const MiB = 1024 * 1024;
/**
 * The in-memory bus of `npm start`: intake waits (then answers 503 with Retry-After) once
 * the stages hold 24 MiB not yet committed across topics, and a stage waits once the next
 * one is 2 MiB behind on a partition (about 900 scores or 1,800 vectors: a few of the next
 * stage's batches). At the bus's own default of 8 MiB a partition, a heap snapshot of the
 * 2,000-stay replay found the feature-vector and score topics at that bound, 48 MiB each.
 */
export function embeddedBroker(partitions: number): MemoryBroker {
  return new MemoryBroker({ defaultPartitions: partitions, maxHeldBytes: 24 * MiB, maxBacklogBytesPerPartition: 2 * MiB });
}

/**
 * What `npm start` sets unless told otherwise, on the in-memory bus only. Intake's produce
 * deadline: on Kafka a produce past 1.5 s means a broker that does not confirm, but here it
 * means the stages are 24 MiB behind, and the produce lands as soon as they catch up. A 503
 * then had the client post the same events again after its Retry-After, each a duplicate the
 * feature service reads and drops: in the 2,000-stay replay 139 answers of 503 put 617,572
 * events on the bus for 482,572 (every stage through in 244 s); waiting up to 10 s, none, in
 * 235 s (`npm run bench -w @ehr/pipeline`, 2026-12-07, one run each, load 1.4 and 2.4).
 */
export const EMBEDDED_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({ PRODUCER_PUBLISH_TIMEOUT_MS: '10000' });

/**
 * Runs every service of the list in one process. Each keeps its own bus client, registry
 * and logger, exactly as it would alone; on the in-memory bus they share one broker.
 */
/** The shipped alert policy tuned for the served model, when there is one (a policy's thresholds are one model's probabilities). */
function policyForModel(card: { name: string; version: string } | null): string | null {
  return card ? shippedPolicyFor(card) : null;
}

export async function startPipeline({ env, say, logDestination, defaultModel = false, summary, spoolDir }: PipelineOptions): Promise<RunningPipeline> {
  const level = env.LOG_LEVEL || 'warn';
  const base = SERVICES[0].checkConfig({ ...env, PORT: '0' });
  const memoryBroker = env.KAFKA_BROKERS ? undefined : embeddedBroker(base.KAFKA_TOPIC_PARTITIONS);
  const loggerFor = (service: string): Logger => createLogger({ service, level, destination: logDestination ?? process.stderr });
  const defaults = memoryBroker ? EMBEDDED_DEFAULTS : {};
  const envFor = (name: string, port: number): Env => ({ ...defaults, ...env, PORT: env[portVariableOf(name)] ?? String(port), LOG_LEVEL: level });
  const wiring = { cwd: process.cwd(), logLevel: level, logDestination: logDestination ?? process.stderr, ...(memoryBroker ? { memoryBroker } : {}) };
  const spool = resolve(spoolDir ?? 'data/spool');

  // Each stage's input and consumer group, from its own configuration.
  const inputs: StageInput[] = SERVICES.flatMap((manifest) => {
    const topics = STAGE_INPUTS.get(manifest.name) ?? [];
    const variable = manifest.groupIdVariable;
    if (!variable || topics.length === 0) return [];
    const config = manifest.checkConfig(envFor(manifest.name, manifest.defaultPort)) as unknown as Record<string, unknown>;
    return topics.map((topic) => ({ stage: manifest.name, topic, groupId: String(config[variable]) }));
  });

  // A one-shot step before any service starts, so scoring loads the model at once; alerting
  // then gets the shipped policy tuned for that model, unless ALERTING_POLICY says otherwise.
  if (defaultModel) {
    const ensured = await prepareDefaultModel(env, say);
    const policy = env.ALERTING_POLICY ? null : policyForModel(ensured.card);
    if (policy) {
      env = { ...env, ALERTING_POLICY: policy };
      say(`alert policy: ${policy} (tuned for model ${ensured.card!.version})`);
    }
  }

  // What the last stop could not drain goes back on the bus before anything consumes it.
  const resumed: SpoolReport = memoryBroker ? await resumeSpool(memoryBroker, spool, base.KAFKA_TOPIC_PARTITIONS) : { counts: {}, total: 0, path: null };
  if (resumed.total > 0) say(`resuming ${resumed.total.toLocaleString('en-GB')} records the last stop kept (${describeCounts(resumed.counts)})`);

  const running = new Map<string, ListeningService>();
  const urls: Record<string, string> = {};
  const stages = SERVICES.filter((s) => s.stage);
  const peers = () => Object.fromEntries(stages.filter((s) => urls[s.name]).map((s) => [s.name, urls[s.name]!]));
  const stopOne = (name: string) => running.get(name)?.shutdown.run('pipeline stopping');

  // Downstream first, so nothing is produced before its consumer is there; the dashboard,
  // last in the list, starts first: it only reads the scores topic, so it sees every score.
  for (const manifest of [...SERVICES].reverse()) {
    try {
      const service = await listenService(manifest, envFor(manifest.name, manifest.defaultPort), { ...wiring, peers });
      running.set(manifest.name, service);
      urls[manifest.name] = service.url;
    } catch (err) {
      for (const s of [...running.keys()].reverse()) await stopOne(s);
      throw err;
    }
  }
  for (const manifest of SERVICES) say(readyLineOf(manifest, urls[manifest.name]!));

  let summarizer: { stop(): Promise<void> } | null = null;
  if (summary) {
    const logger = loggerFor('pipeline');
    const bus = createBus(base, { clientId: 'pipeline-summary', logger, ...(memoryBroker ? { memoryBroker } : {}) });
    await bus.connect();
    const live = await startSummary({
      bus,
      show: summary.show,
      intervalMs: summary.intervalMs,
      ...(summary.onFirstScore ? { onFirstScore: summary.onFirstScore } : {}),
      ...(urls.sink ? { sinkUrl: urls.sink } : {}),
    });
    summarizer = {
      stop: async () => {
        await live.stop();
        await bus.close();
      },
    };
  }

  const keptOnKafka = async (bus: Bus): Promise<SpoolReport> => {
    const counts: Record<string, number> = {};
    // A topic two groups read (the scores): the larger lag, since Kafka keeps each group's from its own commit.
    for (const { topic, groupId } of inputs) counts[topic] = Math.max(counts[topic] ?? 0, await bus.groupLag(groupId, [topic]));
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    return { counts, total, path: total > 0 ? 'the Kafka topics (consumed from the committed offsets at the next start)' : null };
  };

  let stopping: Promise<StopReport> | null = null;
  return {
    urls,
    resumed,
    stop(options = {}) {
      stopping ??= (async () => {
        const deadline = Date.now() + (options.drainTimeoutMs ?? 60_000);
        const every = options.progressEveryMs ?? 1_000;
        await summarizer?.stop();
        // 1. Intake: no new request (those in flight finish and are on the bus), no more streaming.
        await running.get('producer')?.service.app.close();
        await stopOne('producer');
        // A client of its own to watch the groups' commits (the services' clients close as they stop).
        const logger = loggerFor('pipeline');
        const watch = memoryBroker ? new MemoryBus({ broker: memoryBroker }) : createBus(base, { clientId: 'pipeline-drain', logger });
        await watch.connect();
        let drained = true;
        try {
          // 2. Each consuming service, in flow order, once everything before it is consumed and committed.
          for (const stage of STAGE_INPUTS.keys()) {
            const mine = inputs.filter((i) => i.stage === stage);
            let last = 0;
            for (;;) {
              const left = await lagOf(watch, mine);
              if (left === 0) break;
              if (Date.now() > deadline) {
                drained = false;
                say(`${stage}: ${left.toLocaleString('en-GB')} records not consumed by the deadline; keeping them`);
                break;
              }
              if (Date.now() - last >= every) {
                last = Date.now();
                say(`draining ${stage}: ${left.toLocaleString('en-GB')} records to go (${Math.ceil((deadline - Date.now()) / 1000)} s left)`);
              }
              await sleep(100);
            }
            await stopOne(stage);
          }
          for (const name of running.keys()) await stopOne(name);
          // 3. What did not land is kept.
          const kept = memoryBroker ? writeSpool(memoryBroker, inputs, spool) : await keptOnKafka(watch);
          return { drained: drained && kept.total === 0, kept };
        } finally {
          await watch.close().catch((err: unknown) => logger.warn({ err: errorMessage(err) }, 'closing the drain watcher failed'));
        }
      })();
      return stopping;
    },
    keepUnlanded() {
      if (!memoryBroker) return { counts: {}, total: Number.NaN, path: 'the Kafka topics (consumed from the committed offsets at the next start)' };
      return writeSpool(memoryBroker, inputs, spool);
    },
  };
}

async function lagOf(bus: Bus, inputs: readonly StageInput[]): Promise<number> {
  let total = 0;
  for (const { topic, groupId } of inputs) total += await bus.groupLag(groupId, [topic]);
  return total;
}

const WHAT_IS_LEFT = new Map<string, string>([
  [TOPICS.events, 'events not yet featurized'],
  [TOPICS.features, 'feature vectors not yet scored'],
  [TOPICS.scores, 'scores not yet in the warehouse or not yet read by alerting'],
  [TOPICS.shadowScores, "a challenger's scores not yet in the warehouse"],
  [TOPICS.alerts, 'alert events not yet in the warehouse'],
  [TOPICS.deadLetter, 'dead letters not yet in the warehouse'],
]);

/** "12 events not yet featurized, 3 scores not yet in the warehouse". */
export function describeCounts(counts: Record<string, number>): string {
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([topic, n]) => `${n.toLocaleString('en-GB')} ${WHAT_IS_LEFT.get(topic) ?? `on ${topic}`}`);
  return parts.length > 0 ? parts.join(', ') : 'nothing';
}
