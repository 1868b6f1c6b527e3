// The services as separate processes (their built dist/main.js), each on its own port,
// their output handed to one log sink line by line. Used by `npm run stack` and by the
// end-to-end tests, which also kill and restart single services.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { isPortFree } from '@ehr/kafka-local';
import { parseLogRecord, type LogRecord } from './log-format.js';
import { createPipelineTopics } from '@ehr/init';
import { findRepoRoot, SERVICE_NAMES, serviceInfo, type ServiceName } from './services.js';

export type Env = Record<string, string | undefined>;

export interface StackOptions {
  /** `KAFKA_BROKERS` for every service. Omitted: each process gets its own in-memory bus (nothing flows between them). */
  brokers?: string;
  /** Which services to run (default: all five). */
  services?: readonly ServiceName[];
  /** Ports by service (default: each service's own default, 3000-3004). */
  ports?: Partial<Record<ServiceName, number>>;
  /** Interface the services bind to (default 127.0.0.1). */
  host?: string;
  /** Variables for every service, over the inherited ones; `undefined` removes a variable. */
  env?: Env;
  /** Variables for one service, over everything else. */
  serviceEnv?: Partial<Record<ServiceName, Env>>;
  /** Start from this process's environment (default true); false starts from PATH, HOME and TMPDIR only. */
  inheritEnv?: boolean;
  /** Every line any service prints, in arrival order. */
  logSink?: (entry: StackLogEntry) => void;
  /** A service exited that neither stop() nor kill() asked to. */
  onUnexpectedExit?: (report: ExitReport) => void;
  /** Repository root (default: found from this package). */
  root?: string;
  /** How long every service gets to answer 200 on /health/ready (default 120 s). */
  readyTimeoutMs?: number;
  /** Grace after SIGTERM before SIGKILL (default 20 s; services have 10 s to shut down). */
  stopTimeoutMs?: number;
  /** With `brokers`: create every pipeline topic before the services start (default true). */
  createTopics?: boolean;
  /** Aborting while the services start stops them and rejects (Ctrl-C during start-up). */
  signal?: AbortSignal;
}

export interface StackLogEntry {
  service: ServiceName;
  stream: 'stdout' | 'stderr';
  line: string;
  /** The line as a pino record, or null when it is not JSON. */
  record: LogRecord | null;
}

export interface ExitReport {
  service: ServiceName;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** SIGKILL had to follow SIGTERM. */
  forced: boolean;
}

export interface Readiness {
  status: number;
  body: unknown;
}

export interface Stack {
  readonly services: readonly ServiceName[];
  /** Base URL of every running service, e.g. `http://127.0.0.1:3002`. */
  readonly urls: Readonly<Partial<Record<ServiceName, string>>>;
  /** The base URL of one service (throws for a service not in the stack). */
  url(service: ServiceName): string;
  pid(service: ServiceName): number | undefined;
  /** GET /health/ready of every service now. */
  readiness(): Promise<Partial<Record<ServiceName, Readiness>>>;
  /** Signals one service (default SIGKILL: a crash) and waits for it to exit. */
  kill(service: ServiceName, signal?: NodeJS.Signals): Promise<ExitReport>;
  /** Starts a stopped or killed service again, on the same port, and waits until it is ready. */
  restart(service: ServiceName): Promise<void>;
  /**
   * SIGTERM every service, SIGKILL what outlives the grace; every exit, in service order.
   * Idempotent. With `flow`, one at a time in flow order, each once its inputs are drained.
   */
  stop(flow?: FlowStop): Promise<ExitReport[]>;
}

/**
 * A stop that loses nothing in flight: services stop one at a time in the stack's order
 * (producer first: intake closes), each once its consumer group has committed everything
 * before it, so every stage drains what the one before it left.
 */
export interface FlowStop {
  /** Records the service's group has not committed on its inputs; null: nothing to wait for. */
  backlog: (service: ServiceName) => Promise<number | null>;
  /** For all the waiting together; past it the rest stop at once (Kafka keeps what is left). */
  timeoutMs: number;
  /** Called about once a second while a service drains. */
  onProgress?: (service: ServiceName, left: number) => void;
}

const TAIL_LINES = 30;

interface Running {
  child: ChildProcess;
  closed: Promise<ExitReport>;
  expected: boolean;
  forced: boolean;
  tail: string[];
}

/** Variables that give one run its own topics and consumer groups on a shared cluster. */
export function isolatedEnv(runId: string): Env {
  const id = runId.replace(/[^A-Za-z0-9._-]/g, '-');
  const env: Env = { KAFKA_TOPIC_PREFIX: `${id}.` };
  for (const name of SERVICE_NAMES) {
    const variable = serviceInfo(name).groupIdVariable;
    if (variable) env[variable] = `${id}.${name}`;
  }
  return env;
}

function baseEnv(inherit: boolean): Env {
  if (inherit) return { ...process.env };
  const { PATH, HOME, TMPDIR } = process.env;
  return { PATH, HOME, TMPDIR };
}

function applyEnv(target: Env, extra: Env | undefined): void {
  for (const [key, value] of Object.entries(extra ?? {})) {
    if (value === undefined) delete target[key];
    else target[key] = value;
  }
}

function definedOnly(env: Env): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined));
}

async function getReadiness(url: string): Promise<Readiness> {
  try {
    const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(3_000) });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body };
  } catch (error) {
    return { status: 0, body: error instanceof Error ? error.message : String(error) };
  }
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const root = options.root ?? findRepoRoot();
  const services = [...(options.services ?? SERVICE_NAMES)];
  const host = options.host ?? '127.0.0.1';
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 20_000;
  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host;

  const ports = Object.fromEntries(services.map((s) => [s, options.ports?.[s] ?? serviceInfo(s).defaultPort])) as Record<ServiceName, number>;
  const urls = Object.fromEntries(services.map((s) => [s, `http://${urlHost}:${ports[s]}`])) as Record<ServiceName, string>;

  for (const service of services) {
    const entry = join(root, serviceInfo(service).entry);
    if (!existsSync(entry)) {
      throw new Error(`${service}: ${entry} is missing; build it first (npx turbo run build --filter=${serviceInfo(service).packageName})`);
    }
  }
  const seen = new Map<number, ServiceName>();
  for (const service of services) {
    const other = seen.get(ports[service]);
    if (other) throw new Error(`${other} and ${service} are both given port ${ports[service]}`);
    seen.set(ports[service], service);
    if (!(await isPortFree(ports[service], host))) {
      throw new Error(`${service}: port ${ports[service]} on ${host} is in use (is \`npm start\` or another stack running?); choose another port`);
    }
  }

  const running = new Map<ServiceName, Running>();
  let stopping: Promise<ExitReport[]> | null = null;

  const envFor = (service: ServiceName): NodeJS.ProcessEnv => {
    const env = baseEnv(options.inheritEnv ?? true);
    for (const [key, value] of Object.entries(serviceInfo(service).processEnv)) env[key] ??= value;
    applyEnv(env, options.env);
    env.PORT = String(ports[service]);
    env.HOST = host;
    if (options.brokers) env.KAFKA_BROKERS = options.brokers;
    else delete env.KAFKA_BROKERS;
    const peersVariable = serviceInfo(service).peersVariable;
    if (peersVariable && options.env?.[peersVariable] === undefined) {
      env[peersVariable] = services
        .filter((s) => s !== service)
        .map((s) => `${s}=${urls[s]}`)
        .join(',');
    }
    applyEnv(env, options.serviceEnv?.[service]);
    return definedOnly(env);
  };

  const launch = (service: ServiceName): Running => {
    // Its own process group: a Ctrl-C in the terminal reaches only the runner, which then
    // sends each service exactly one SIGTERM (a second signal makes a service exit at once).
    const child = spawn(process.execPath, [...serviceInfo(service).nodeFlags, join(root, serviceInfo(service).entry)], {
      cwd: root,
      env: envFor(service),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const state: Running = { child, expected: false, forced: false, tail: [], closed: Promise.resolve(null as never) };
    for (const stream of ['stdout', 'stderr'] as const) {
      const lines = createInterface({ input: child[stream], crlfDelay: Infinity });
      lines.on('line', (line) => {
        state.tail.push(line);
        if (state.tail.length > TAIL_LINES) state.tail.shift();
        options.logSink?.({ service, stream, line, record: parseLogRecord(line) });
      });
    }
    state.closed = new Promise<ExitReport>((resolve) => {
      child.once('error', (error) => {
        state.tail.push(`could not start: ${error.message}`);
      });
      // 'close' comes after the output streams ended, so every line reached the sink first.
      child.once('close', (code, signal) => {
        const report: ExitReport = { service, pid: child.pid ?? -1, code, signal, forced: state.forced };
        if (!state.expected) options.onUnexpectedExit?.(report);
        resolve(report);
      });
    });
    running.set(service, state);
    return state;
  };

  const exitedEarly = (service: ServiceName, state: Running) =>
    state.closed.then((report) => {
      const how = report.signal ? `signal ${report.signal}` : `code ${report.code}`;
      return new Error(`${service} exited (${how}) before it was ready; its last lines:\n${state.tail.join('\n')}`);
    });

  const waitReady = async (service: ServiceName, state: Running): Promise<void> => {
    const deadline = Date.now() + readyTimeoutMs;
    let last: Readiness = { status: 0, body: 'no answer yet' };
    const dead: { error?: Error } = {};
    void exitedEarly(service, state).then((error) => (dead.error = error));
    while (Date.now() < deadline) {
      if (dead.error) throw dead.error;
      options.signal?.throwIfAborted();
      last = await getReadiness(urls[service]);
      if (last.status === 200) return;
      await sleep(250);
    }
    if (dead.error) throw dead.error;
    throw new Error(
      `${service} not ready after ${Math.round(readyTimeoutMs / 1000)} s: ${urls[service]}/health/ready answered ${last.status} ${JSON.stringify(last.body)}`,
    );
  };

  const signal = (state: Running, name: NodeJS.Signals) => {
    try {
      if (state.child.exitCode === null && state.child.signalCode === null) state.child.kill(name);
    } catch {
      // already gone
    }
  };

  const terminate = async (service: ServiceName): Promise<ExitReport | null> => {
    const state = running.get(service);
    if (!state) return null;
    state.expected = true;
    signal(state, 'SIGTERM');
    const timer = setTimeout(() => {
      state.forced = true;
      signal(state, 'SIGKILL');
    }, stopTimeoutMs);
    const report = await state.closed;
    clearTimeout(timer);
    return report;
  };

  // Should this process end without stop() (a failed test, an uncaught error), take the
  // services with it: they run in their own process groups and would outlive it.
  const killAll = () => {
    for (const state of running.values()) signal(state, 'SIGKILL');
  };
  process.on('exit', killAll);

  const drainBefore = async (service: ServiceName, flow: FlowStop, deadline: number): Promise<void> => {
    let told = 0;
    for (;;) {
      let left: number | null;
      try {
        left = await flow.backlog(service);
      } catch {
        return; // the broker cannot say: stop it anyway, Kafka keeps what is left
      }
      if (left === null || left === 0 || Date.now() > deadline) return;
      if (Date.now() - told >= 1_000) {
        told = Date.now();
        flow.onProgress?.(service, left);
      }
      await sleep(200);
    }
  };

  const stop = (flow?: FlowStop): Promise<ExitReport[]> => {
    stopping ??= (async () => {
      let reports: (ExitReport | null)[];
      if (flow) {
        const deadline = Date.now() + flow.timeoutMs;
        reports = [];
        for (const service of services) {
          if (running.has(service)) await drainBefore(service, flow, deadline);
          reports.push(await terminate(service));
        }
      } else reports = await Promise.all([...running.keys()].map((s) => terminate(s)));
      process.off('exit', killAll);
      return reports.filter((r): r is ExitReport => r !== null);
    })();
    return stopping;
  };

  if (options.brokers && options.createTopics !== false) {
    const env = baseEnv(options.inheritEnv ?? true);
    applyEnv(env, options.env);
    env.KAFKA_BROKERS = options.brokers;
    try {
      await createPipelineTopics(env);
    } catch (error) {
      throw new Error(`could not create the pipeline's topics on ${options.brokers}: ${(error as Error).message}`);
    }
  }

  for (const service of services) launch(service);
  try {
    await Promise.all(services.map((s) => waitReady(s, running.get(s)!)));
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    services,
    urls,
    url(service) {
      const url = urls[service];
      if (!url) throw new Error(`${service} is not part of this stack (${services.join(', ')})`);
      return url;
    },
    pid: (service) => running.get(service)?.child.pid,
    async readiness() {
      const entries = await Promise.all(services.map(async (s) => [s, await getReadiness(urls[s])] as const));
      return Object.fromEntries(entries);
    },
    async kill(service, name = 'SIGKILL') {
      const state = running.get(service);
      if (!state) throw new Error(`${service} is not part of this stack`);
      state.expected = true;
      signal(state, name);
      return state.closed;
    },
    async restart(service) {
      const state = running.get(service);
      if (!state) throw new Error(`${service} is not part of this stack`);
      if (stopping) throw new Error('the stack is stopping');
      if (state.child.exitCode === null && state.child.signalCode === null) throw new Error(`${service} is still running; kill it first`);
      await waitReady(service, launch(service));
    },
    stop,
  };
}
