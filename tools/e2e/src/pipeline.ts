// One pipeline run on a real broker: the four built services as processes (through
// @ehr/deploy's startStack), on their own topics and consumer groups (isolatedEnv), with a
// warehouse of their own (a DuckDB file, or the Snowflake test server), every line they
// print captured, and a test-side observer of the topics.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { instancesOf, isolatedEnv, PIPELINE_SERVICES, startStack, type Env, type ExitReport, type InstanceName, type ServiceName, type Stack, type StackInstance, type StackLogEntry } from '@ehr/deploy';
import { TOPICS } from '@ehr/features';
import { freePorts } from '@ehr/kafka-local';
import { startObserver, type KafkaClientOptions, type Observer } from './observer.js';

export interface SnowflakeTarget {
  /** The test server's URL (SNOWFLAKE_ACCESS_URL). */
  url: string;
  user: string;
  password: string;
}

export interface PipelineOptions {
  brokers: string;
  /** Distinguishes the run's topics and groups on a shared broker. */
  runId: string;
  /** Default: a DuckDB file in the run's temp folder. */
  snowflake?: SnowflakeTarget;
  /** Model artifact for scoring (default: none, so scoring serves NEWS2 alone, readiness degraded). */
  modelPath?: string;
  partitions?: number;
  /** SASL/PLAIN credentials for every client (the services and the observer). */
  sasl?: { username: string; password: string };
  /** TLS for every client, trusting the CA in this PEM file (KAFKA_SSL, KAFKA_SSL_CA_FILE). */
  tls?: { caFile: string };
  /** Extra variables for every service / for one. */
  env?: Env;
  serviceEnv?: Partial<Record<ServiceName, Env>>;
  services?: readonly ServiceName[];
  /** Processes per service (default 1), sharing its consumer group: `{ feature: 2 }` runs `feature` and `feature-2`. */
  replicas?: Partial<Record<ServiceName, number>>;
  /** Extra Node flags for one instance (the bench's --cpu-prof). */
  nodeFlags?: (instance: StackInstance) => readonly string[];
  /** Passed to each service as LOG_LEVEL (default info: what production runs with). */
  logLevel?: string;
}

export interface PipelineRun {
  stack: Stack;
  observer: Observer;
  runId: string;
  prefix: string;
  dir: string;
  /** The sink's DuckDB file (null on Snowflake). */
  duckdbPath: string | null;
  groups: Record<'feature' | 'scoring' | 'sink', string>;
  /** Every line every service printed, in arrival order. */
  logs: StackLogEntry[];
  unexpectedExits: ExitReport[];
  /** Secrets configured for this run (for the log-safety check). */
  secrets: string[];
  adminToken: string;
  kafka: KafkaClientOptions;
  /** GET /metrics of a service, as text. */
  metrics(instance: InstanceName): Promise<string>;
  /**
   * Waits until the pipeline has done everything it will do with what is on the raw topic:
   * the feature service has an outcome for every record (observed on its output topics),
   * scoring has committed up to the end of the vectors, and the sink's warehouse offsets
   * (from its metrics: what the warehouse holds) reach the end of the scores and dead letters.
   */
  drain(timeoutMs: number, say?: (line: string) => void): Promise<void>;
  /** Stops the services (SIGTERM) and the observer; removes the temp folder when `cleanup`. */
  stop(options?: { cleanup?: boolean }): Promise<ExitReport[]>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A value of a Prometheus sample: `name{labels} value`, summed over the lines matching every label given. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const body = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`))) {
      sum += Number(m[3]);
      found = true;
    }
  }
  return found ? sum : Number.NaN;
}

export async function startPipeline(options: PipelineOptions): Promise<PipelineRun> {
  const services = options.services ?? PIPELINE_SERVICES;
  const dir = mkdtempSync(join(tmpdir(), 'ehr-e2e-'));
  const runId = options.runId.replace(/[^A-Za-z0-9._-]/g, '-');
  const isolated = isolatedEnv(runId);
  const prefix = isolated.KAFKA_TOPIC_PREFIX!;
  const groups = { feature: isolated.FEATURE_GROUP_ID!, scoring: isolated.SCORING_GROUP_ID!, sink: isolated.SINK_GROUP_ID! };
  const partitions = options.partitions ?? 3;
  // 32 characters from the run id and the clock: a secret the logs must never show.
  const adminToken = `adm1n-${Buffer.from(`${runId}:${process.hrtime.bigint()}`).toString('base64url')}`.slice(0, 40).padEnd(32, 'x');
  const duckdbPath = options.snowflake ? null : join(dir, 'warehouse.duckdb');
  const secrets = [adminToken, ...(options.snowflake ? [options.snowflake.password] : []), ...(options.sasl ? [options.sasl.password] : [])];

  const env: Env = {
    ...isolated,
    LOG_LEVEL: options.logLevel ?? 'info',
    KAFKA_TOPIC_PARTITIONS: String(partitions),
    // The policy the accounting relies on, stated rather than inherited.
    FEATURE_DEBOUNCE_SECONDS: '0',
    FEATURE_TRIGGERS: undefined,
    MODEL_PATH: options.modelPath ?? join(dir, 'no-model.json'),
    SCORING_ADMIN_TOKEN: adminToken,
    SINK_FLUSH_MS: '200',
    SINK_RETRY_INITIAL_MS: '200',
    SINK_RETRY_MAX_MS: '2000',
    SNOWFLAKE_DISABLE_PLATFORM_DETECTION: 'true',
    SF_TELEMETRY_DISABLE_CONNECTION_SHAPE: '1',
    ...(duckdbPath ? { DUCKDB_PATH: duckdbPath } : {}),
    ...(options.snowflake
      ? {
          SINK_WAREHOUSE: 'snowflake',
          SNOWFLAKE_ACCOUNT: 'e2eacct',
          SNOWFLAKE_USER: options.snowflake.user,
          SNOWFLAKE_PASSWORD: options.snowflake.password,
          SNOWFLAKE_DATABASE: 'EHR',
          SNOWFLAKE_SCHEMA: 'PUBLIC',
          SNOWFLAKE_WAREHOUSE: 'WH',
          SNOWFLAKE_ACCESS_URL: options.snowflake.url,
          SNOWFLAKE_TIMEOUT_MS: '10000',
        }
      : {}),
    ...(options.sasl ? { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: options.sasl.username, KAFKA_SASL_PASSWORD: options.sasl.password } : {}),
    ...(options.tls ? { KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: options.tls.caFile } : {}),
    ...options.env,
  };
  const kafka: KafkaClientOptions = {
    brokers: options.brokers,
    ...(options.sasl ? { sasl: { mechanism: 'plain', username: options.sasl.username, password: options.sasl.password } } : {}),
    ...(options.tls ? { tls: { ca: readFileSync(options.tls.caFile, 'utf8') } } : {}),
  };

  const logs: StackLogEntry[] = [];
  const unexpectedExits: ExitReport[] = [];
  const instances = instancesOf(services, options.replicas);
  const ports = await freePorts(instances.length);
  let stack: Stack;
  try {
    stack = await startStack({
      brokers: options.brokers,
      services,
      ...(options.replicas ? { replicas: options.replicas } : {}),
      ...(options.nodeFlags ? { nodeFlags: options.nodeFlags } : {}),
      ports: Object.fromEntries(instances.map((s, i) => [s.name, ports[i]])),
      inheritEnv: false,
      env,
      ...(options.serviceEnv ? { serviceEnv: options.serviceEnv } : {}),
      logSink: (entry) => logs.push(entry),
      onUnexpectedExit: (report) => unexpectedExits.push(report),
      readyTimeoutMs: 150_000,
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let observer: Observer;
  try {
    observer = await startObserver({ ...kafka, prefix, groupId: `${runId}.observer` });
  } catch (error) {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const metrics = async (service: InstanceName) => {
    const response = await fetch(`${stack.url(service)}/metrics`, { signal: AbortSignal.timeout(5_000) });
    return response.text();
  };

  const sinkCaughtUp = async (): Promise<string | null> => {
    let text: string;
    try {
      text = await metrics('sink');
    } catch {
      return 'sink not answering';
    }
    for (const topic of [TOPICS.scores, TOPICS.deadLetter]) {
      for (const [partition, end] of await observer.highWatermarks(topic)) {
        if (end === 0n) continue;
        const landed = metricValue(text, 'ehr_sink_warehouse_offset', { topic: `${prefix}${topic}`, partition: String(partition) });
        if (!(landed >= Number(end - 1n))) return `${topic}[${partition}]: warehouse at ${Number.isNaN(landed) ? 'nothing' : landed}, topic end ${end - 1n}`;
      }
    }
    return null;
  };

  return {
    stack,
    observer,
    runId,
    prefix,
    dir,
    duckdbPath,
    groups,
    logs,
    unexpectedExits,
    secrets,
    adminToken,
    kafka,
    metrics,
    async drain(timeoutMs, say) {
      const deadline = Date.now() + timeoutMs;
      await observer.featureStageDone(deadline, (pending) => say?.(`feature stage: ${pending} records pending`));
      // Scoring: committed (after producing its scores) up to the end of the vectors.
      const vectorsEnd = await observer.highWatermarks(TOPICS.features);
      for (;;) {
        const committed = await observer.committed(groups.scoring, TOPICS.features);
        const behind = [...vectorsEnd].filter(([p, end]) => end > 0n && (committed.get(p) ?? -1n) < end);
        if (behind.length === 0) break;
        if (Date.now() > deadline) throw new Error(`scoring did not commit to the end of the vectors in time: ${behind.map(([p, e]) => `${p}: ${committed.get(p)} < ${e}`).join(', ')}`);
        await sleep(200);
      }
      for (;;) {
        const waiting = await sinkCaughtUp();
        if (waiting === null) break;
        if (Date.now() > deadline) throw new Error(`the sink did not land everything in time: ${waiting}`);
        await sleep(200);
      }
    },
    async stop({ cleanup = true } = {}) {
      const reports = await stack.stop();
      await observer.stop();
      if (cleanup) rmSync(dir, { recursive: true, force: true });
      return reports;
    },
  };
}
