// One real Kafka broker (combined broker+controller KRaft node) as a local Java process.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { findJars } from './jars.js';
import { defaultJarsDir } from './paths.js';
import { freePorts, isPortFree, LOOPBACK } from './ports.js';
import { terminate } from './process.js';
import { log4jProperties, newClusterId, serverProperties } from './properties.js';
import { waitUntilReady } from './ready.js';

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
  const where = ownsDataDir ? 'its log' : `log ${logFile}`;
  const files = writeConfig(config);
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const jvm = [`-Dlog4j.configuration=${pathToFileURL(files.log4j).href}`, '-cp', join(config.jarsDir, '*')]; // java expands the *
  const logFd = openSync(logFile, 'w');

  let formatMs = 0;
  let child: ChildProcess;
  try {
    if (!existsSync(join(files.logDirs, 'meta.properties'))) {
      const started = Date.now();
      // A short-lived JVM: C1 only and the serial collector start fastest.
      const format = await runToExit(java, ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', ...jvm,
        'kafka.tools.StorageTool', 'format', '-t', newClusterId(), '-c', files.properties], logFd);
      if (format !== 0) {
        throw new Error(`formatting Kafka storage in ${files.logDirs} failed (exit ${format}); ${where}:\n${logTail(logFile)}`);
      }
      formatMs = Date.now() - started;
    }
    const heapMb = config.heapMb ?? 512;
    child = spawn(
      java,
      [`-Xms${Math.min(256, heapMb)}m`, `-Xmx${heapMb}m`, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20',
        '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true', `-Dkafka.logs.dir=${dataDir}`, ...jvm,
        'kafka.Kafka', files.properties],
      { detached: config.detached ?? false, stdio: ['ignore', logFd, logFd] },
    );
  } catch (error) {
    throw javaError(java, error);
  } finally {
    closeSync(logFd); // a running broker holds its own copy
  }

  const started = Date.now();
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
    propertiesFile: files.properties,
    logFile,
    kafkaVersion: config.kafkaVersion,
    timings: { formatMs, readyMs },
    stop,
  };
}

function writeConfig(config: LaunchConfig): { properties: string; log4j: string; logDirs: string } {
  const logDirs = join(config.dataDir, 'kraft');
  const properties = join(config.dataDir, 'server.properties');
  const log4j = join(config.dataDir, 'log4j.properties');
  mkdirSync(logDirs, { recursive: true });
  writeFileSync(
    properties,
    serverProperties({
      host: LOOPBACK,
      port: config.port,
      controllerPort: config.controllerPort,
      logDirs,
      partitions: config.partitions ?? 3,
      ...(config.properties ? { overrides: config.properties } : {}),
    }),
  );
  writeFileSync(log4j, log4jProperties());
  return { properties, log4j, logDirs };
}

/** Runs a short-lived process with its output into `logFd`, without blocking the event loop. */
function runToExit(command: string, args: string[], logFd: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', logFd, logFd] });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
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

function javaError(java: string, error: unknown): Error {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
    return new Error(
      `cannot run '${java}': install a Java 17+ runtime (e.g. \`apt-get install openjdk-17-jre-headless\`) or set JAVA_HOME`,
    );
  }
  return error instanceof Error ? error : new Error(String(error));
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
