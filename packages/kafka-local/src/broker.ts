// One real Kafka broker (combined broker+controller KRaft node) as a local Java process.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { findJars } from './jars.js';
import { defaultJarsDir } from './paths.js';
import { freePorts, isPortFree, isPortOpen, LOOPBACK } from './ports.js';
import { terminate } from './process.js';
import { log4jProperties, newClusterId, serverProperties } from './properties.js';

export interface KafkaBrokerOptions {
  /** Client (PLAINTEXT) port; a free one when omitted. */
  port?: number;
  /** KRaft controller port; a free one when omitted. */
  controllerPort?: number;
  /** Config, log and data folder. Omitted: a fresh temp folder, removed by stop(). Given: kept; reused if already formatted. */
  dataDir?: string;
  /** Maximum heap (default 512). */
  heapMb?: number;
  /** Where the broker's own log goes (default `<dataDir>/broker.log`); never the console. */
  logFile?: string;
  /** Let the broker outlive this process (kafka:up). Otherwise it is signalled when this process exits. */
  detached?: boolean;
  /** `num.partitions` for auto-created topics (default 3). */
  partitions?: number;
  /** Extra or overriding server.properties settings. */
  properties?: Record<string, string | number | boolean>;
  /** Folder of fetched jars (default `<repo>/.kafka/jars`). */
  jarsDir?: string;
  /** How long to wait for the broker to answer (default 120 s). */
  readyTimeoutMs?: number;
}

export interface KafkaBroker {
  /** Bootstrap address, e.g. `127.0.0.1:40123`. */
  brokers: string;
  pid: number;
  dataDir: string;
  port: number;
  controllerPort: number;
  propertiesFile: string;
  logFile: string;
  kafkaVersion: string;
  /** formatMs: storage format; readyMs: java start until it answers an admin client. */
  timings: { formatMs: number; readyMs: number };
  /** SIGTERM, SIGKILL after 30 s; removes the data folder if it was a temp one. Idempotent. */
  stop(): Promise<void>;
}

const LOG_TAIL_LINES = 40;

export async function startKafkaBroker(opts: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
  const jarsDir = resolve(opts.jarsDir ?? defaultJarsDir);
  const jars = findJars(jarsDir);
  if (!jars) {
    throw new Error(`Kafka jars not found in ${jarsDir}: run \`npm run kafka:jars\` first (needs Java 17+ and Maven)`);
  }

  const [port, controllerPort] = await choosePorts(opts.port, opts.controllerPort);
  const ownsDataDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ? resolve(opts.dataDir) : mkdtempSync(join(tmpdir(), 'ehr-kafka-'));
  const logFile = resolve(opts.logFile ?? join(dataDir, 'broker.log'));
  try {
    return await launch({ ...opts, jarsDir, kafkaVersion: jars.kafkaVersion, port, controllerPort, dataDir, logFile, ownsDataDir });
  } catch (error) {
    // The error carries the log's tail, so a temp folder need not outlive a failed start.
    if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

interface LaunchConfig extends KafkaBrokerOptions {
  jarsDir: string;
  kafkaVersion: string;
  port: number;
  controllerPort: number;
  dataDir: string;
  logFile: string;
  ownsDataDir: boolean;
}

async function launch(config: LaunchConfig): Promise<KafkaBroker> {
  const { port, controllerPort, dataDir, logFile, ownsDataDir } = config;
  const logDirs = join(dataDir, 'kraft');
  const propertiesFile = join(dataDir, 'server.properties');
  const log4jFile = join(dataDir, 'log4j.properties');
  const where = ownsDataDir ? 'its log' : `log ${logFile}`;
  mkdirSync(logDirs, { recursive: true });
  writeFileSync(
    propertiesFile,
    serverProperties({
      host: LOOPBACK,
      port,
      controllerPort,
      logDirs,
      partitions: config.partitions ?? 3,
      ...(config.properties ? { overrides: config.properties } : {}),
    }),
  );
  writeFileSync(log4jFile, log4jProperties());

  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const classPath = join(config.jarsDir, '*'); // expanded by java, never by a shell
  const log4j = `-Dlog4j.configuration=${pathToFileURL(log4jFile).href}`;
  const logFd = openSync(logFile, 'w');

  let formatMs = 0;
  try {
    if (!existsSync(join(logDirs, 'meta.properties'))) {
      const started = Date.now();
      // A short-lived JVM: C1 only and the serial collector start fastest.
      const format = spawnSync(
        java,
        ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', log4j, '-cp', classPath,
          'kafka.tools.StorageTool', 'format', '-t', newClusterId(), '-c', propertiesFile],
        { stdio: ['ignore', logFd, logFd] },
      );
      if (format.error) throw javaError(java, format.error);
      if (format.status !== 0) {
        throw new Error(`formatting Kafka storage in ${logDirs} failed (exit ${format.status}); ${where}:\n${logTail(logFile)}`);
      }
      formatMs = Date.now() - started;
    }
  } catch (error) {
    closeSync(logFd);
    throw error;
  }

  const heapMb = config.heapMb ?? 512;
  const started = Date.now();
  const child = spawn(
    java,
    [`-Xms${Math.min(256, heapMb)}m`, `-Xmx${heapMb}m`, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20',
      '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true', log4j, `-Dkafka.logs.dir=${dataDir}`,
      '-cp', classPath, 'kafka.Kafka', propertiesFile],
    { detached: config.detached ?? false, stdio: ['ignore', logFd, logFd] },
  );
  closeSync(logFd); // the child holds its own copy
  let exit: string | undefined;
  child.once('error', (error) => (exit ??= javaError(java, error).message));
  child.once('exit', (code, signal) => (exit ??= `exited early (${signal ?? `code ${code}`})`));
  const pid = child.pid;
  if (pid === undefined) {
    await sleep(0); // let 'error' fire
    throw new Error(exit ?? `could not start ${java}`);
  }

  const brokers = `${LOOPBACK}:${port}`;
  // A non-detached broker must not outlive us if we exit without calling stop().
  const onParentExit = () => {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  if (!config.detached) process.on('exit', onParentExit);

  try {
    await waitUntilReady(brokers, port, started + (config.readyTimeoutMs ?? 120_000), () => exit);
  } catch (error) {
    process.off('exit', onParentExit);
    const tail = logTail(logFile); // before stopping it, or the tail is its shutdown
    if (exit === undefined) await terminate(pid, 5_000);
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Kafka broker on ${brokers} (pid ${pid}) ${reason}; ${where}:\n${tail}`);
  }
  const readyMs = Date.now() - started;
  if (config.detached) child.unref();

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      process.off('exit', onParentExit);
      await terminate(pid);
      if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    })());

  return {
    brokers,
    pid,
    dataDir,
    port,
    controllerPort,
    propertiesFile,
    logFile,
    kafkaVersion: config.kafkaVersion,
    timings: { formatMs, readyMs },
    stop,
  };
}

async function choosePorts(port?: number, controllerPort?: number): Promise<[number, number]> {
  for (const [name, wanted] of [['port', port], ['controller port', controllerPort]] as const) {
    if (wanted !== undefined && !(await isPortFree(wanted))) {
      throw new Error(`cannot start Kafka: ${name} ${LOOPBACK}:${wanted} is already in use`);
    }
  }
  if (port !== undefined && port === controllerPort) throw new Error(`port and controller port are both ${port}`);
  const spare = (await freePorts(2)).filter((p) => p !== port && p !== controllerPort);
  const chosenPort = port ?? spare.shift();
  const chosenController = controllerPort ?? spare.shift();
  if (chosenPort === undefined || chosenController === undefined) throw new Error('no free loopback ports');
  return [chosenPort, chosenController];
}

/** Port open first (cheap), then real admin round trips: metadata with this broker in it, a group coordinator. */
async function waitUntilReady(brokers: string, port: number, deadline: number, exited: () => string | undefined) {
  let lastError = '';
  const check = () => {
    const reason = exited();
    if (reason !== undefined) throw new Error(reason);
    if (Date.now() > deadline) throw new Error(`did not become ready in time${lastError && ` (last: ${lastError})`}`);
  };
  while (!(await isPortOpen(port))) {
    check();
    await sleep(100);
  }
  const kafka = new Kafka({
    clientId: 'kafka-local-ready',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2_000,
    requestTimeout: 5_000,
    retry: { retries: 0 },
  });
  for (;;) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.listTopics();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length > 0) {
        await warmUp(kafka, admin);
        return;
      }
    } catch (error) {
      // not yet: the broker answers before it is unfenced and before the coordinators load
      lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    check();
    await sleep(200);
  }
}

/**
 * The first group and the first idempotent producer of a fresh broker are refused while
 * it creates __consumer_offsets and fetches a block of producer ids; trigger both here so
 * tests and benches do not start with "coordinator not available/loading" errors.
 * `admin` must have fetched metadata already (FindCoordinator needs it).
 */
async function warmUp(kafka: Kafka, admin: Admin): Promise<void> {
  await admin.describeGroups(['kafka-local-ready']); // FindCoordinator creates __consumer_offsets
  const producer = kafka.producer({ idempotent: true, retry: { retries: 1, initialRetryTime: 100 } });
  try {
    await producer.connect(); // InitProducerId
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

function javaError(java: string, error: Error): Error {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
    return new Error(
      `cannot run '${java}': install a Java 17+ runtime (e.g. \`apt-get install openjdk-17-jre-headless\`) or set JAVA_HOME`,
    );
  }
  return error;
}

/** The last lines of the broker's log, for error messages. */
export function logTail(logFile: string, lines = LOG_TAIL_LINES): string {
  try {
    const text = readFileSync(logFile, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n') || '(log is empty)';
  } catch {
    return `(no log at ${logFile})`;
  }
}
