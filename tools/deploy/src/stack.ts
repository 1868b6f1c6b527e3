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

/**
 * One process of the stack: a service's first instance goes by the service's name, its
 * further replicas by `feature-2`, `feature-3`, … (what logs, exits and readiness name).
 */
export type InstanceName = ServiceName | `${ServiceName}-${number}`;

export interface StackInstance {
  name: InstanceName;
  service: ServiceName;
  /** 1 for the first instance, 2 for `<service>-2`, … */
  replica: number;
  port: number;
  url: string;
}

/** The instances `replicas` asks for, in service order, each service's replicas together. */
export function instancesOf(services: readonly ServiceName[], replicas: Partial<Record<ServiceName, number>> = {}): { name: InstanceName; service: ServiceName; replica: number }[] {
  return services.flatMap((service) => {
    const count = replicas[service] ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new Error(`${service}: replicas must be a positive integer, got ${count}`);
    return Array.from({ length: count }, (_, i) => ({ service, replica: i + 1, name: i === 0 ? service : (`${service}-${i + 1}` as const) }));
  });
}

export interface StackOptions {
  /** `KAFKA_BROKERS` for every service. Omitted: each process gets its own in-memory bus (nothing flows between them). */
  brokers?: string;
  /** Which services to run (default: all five). */
  services?: readonly ServiceName[];
  /**
   * Processes per service (default 1). Replicas share the service's consumer group (the
   * group splits the partitions between them); each gets its own port and Kafka client id.
   */
  replicas?: Partial<Record<ServiceName, number>>;
  /** Ports by instance (default: each service's own default, 3000-3005; replica n: that + 100·(n−1)). */
  ports?: Partial<Record<InstanceName, number>>;
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
  /** Extra Node flags for one instance's process (e.g. --cpu-prof for a profile). */
  nodeFlags?: (instance: StackInstance) => readonly string[];
  /** Aborting while the services start stops them and rejects (Ctrl-C during start-up). */
  signal?: AbortSignal;
}

export interface StackLogEntry {
  service: ServiceName;
  /** Which of the service's processes: its own name for the first, `feature-2`, … for replicas. */
  instance: InstanceName;
  stream: 'stdout' | 'stderr';
  line: string;
  /** The line as a pino record, or null when it is not JSON. */
  record: LogRecord | null;
}

export interface ExitReport {
  service: ServiceName;
  /** Which of the service's processes exited. */
  instance: InstanceName;
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
  /** Every process, in service order (one per service unless `replicas` asked for more). */
  readonly instances: readonly StackInstance[];
  /** Base URL of every running service's first instance, e.g. `http://127.0.0.1:3002`. */
  readonly urls: Readonly<Partial<Record<ServiceName, string>>>;
  /** The base URL of one instance (a service's name: its first; throws for one not in the stack). */
  url(instance: InstanceName): string;
  pid(instance: InstanceName): number | undefined;
  /** GET /health/ready of every instance now. */
  readiness(): Promise<Partial<Record<InstanceName, Readiness>>>;
  /** Signals one instance (default SIGKILL: a crash) and waits for it to exit. */
  kill(instance: InstanceName, signal?: NodeJS.Signals): Promise<ExitReport>;
  /** Starts a stopped or killed instance again, on the same port, and waits until it is ready. */
  restart(instance: InstanceName): Promise<void>;
  /**
   * SIGTERM every instance, SIGKILL what outlives the grace; every exit, in instance order.
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

  const instances: StackInstance[] = instancesOf(services, options.replicas).map((i) => {
    const port = options.ports?.[i.name] ?? serviceInfo(i.service).defaultPort + 100 * (i.replica - 1);
    return { ...i, port, url: `http://${urlHost}:${port}` };
  });
  const byName = new Map<InstanceName, StackInstance>(instances.map((i) => [i.name, i]));
  const urls = Object.fromEntries(instances.filter((i) => i.replica === 1).map((i) => [i.service, i.url])) as Record<ServiceName, string>;
  const instanceOf = (name: InstanceName): StackInstance => {
    const found = byName.get(name);
    if (!found) throw new Error(`${name} is not part of this stack (${instances.map((i) => i.name).join(', ')})`);
    return found;
  };

  for (const service of services) {
    const entry = join(root, serviceInfo(service).entry);
    if (!existsSync(entry)) {
      throw new Error(`${service}: ${entry} is missing; build it first (npx turbo run build --filter=${serviceInfo(service).packageName})`);
    }
  }
  const seen = new Map<number, InstanceName>();
  for (const { name, port } of instances) {
    const other = seen.get(port);
    if (other) throw new Error(`${other} and ${name} are both given port ${port}`);
    seen.set(port, name);
    if (!(await isPortFree(port, host))) {
      throw new Error(`${name}: port ${port} on ${host} is in use (is \`npm start\` or another stack running?); choose another port`);
    }
  }

  const running = new Map<InstanceName, Running>();
  let stopping: Promise<ExitReport[]> | null = null;

  const envFor = ({ service, replica, port }: StackInstance): NodeJS.ProcessEnv => {
    const env = baseEnv(options.inheritEnv ?? true);
    for (const [key, value] of Object.entries(serviceInfo(service).processEnv)) env[key] ??= value;
    applyEnv(env, options.env);
    env.PORT = String(port);
    env.HOST = host;
    if (options.brokers) env.KAFKA_BROKERS = options.brokers;
    else delete env.KAFKA_BROKERS;
    const peersVariable = serviceInfo(service).peersVariable;
    if (peersVariable && options.env?.[peersVariable] === undefined) {
      env[peersVariable] = services
        .filter((s) => s !== service)
        // The first instance of each: a watcher wants one answer per service.
        .map((s) => `${s}=${urls[s]}`)
        .join(',');
    }
    applyEnv(env, options.serviceEnv?.[service]);
    // A replica's own client id, so the broker's group description and its logs tell the
    // members apart (the group id stays the service's: that is what splits the partitions).
    if (replica > 1) env.KAFKA_CLIENT_ID = `${env.KAFKA_CLIENT_ID ?? service}-${replica}`;
    return definedOnly(env);
  };

  const launch = (instance: StackInstance): Running => {
    const { service, name: instanceName } = instance;
    // Its own process group: a Ctrl-C in the terminal reaches only the runner, which then
    // sends each service exactly one SIGTERM (a second signal makes a service exit at once).
    const child = spawn(process.execPath, [...serviceInfo(service).nodeFlags, ...(options.nodeFlags?.(instance) ?? []), join(root, serviceInfo(service).entry)], {
      cwd: root,
      env: envFor(instance),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const state: Running = { child, expected: false, forced: false, tail: [], closed: Promise.resolve(null as never) };
    for (const stream of ['stdout', 'stderr'] as const) {
      const lines = createInterface({ input: child[stream], crlfDelay: Infinity });
      lines.on('line', (line) => {
        state.tail.push(line);
        if (state.tail.length > TAIL_LINES) state.tail.shift();
        options.logSink?.({ service, instance: instanceName, stream, line, record: parseLogRecord(line) });
      });
    }
    state.closed = new Promise<ExitReport>((resolve) => {
      child.once('error', (error) => {
        state.tail.push(`could not start: ${error.message}`);
      });
      // 'close' comes after the output streams ended, so every line reached the sink first.
      child.once('close', (code, signal) => {
        const report: ExitReport = { service, instance: instanceName, pid: child.pid ?? -1, code, signal, forced: state.forced };
        if (!state.expected) options.onUnexpectedExit?.(report);
        resolve(report);
      });
    });
    running.set(instanceName, state);
    return state;
  };

  const exitedEarly = (service: InstanceName, state: Running) =>
    state.closed.then((report) => {
      const how = report.signal ? `signal ${report.signal}` : `code ${report.code}`;
      return new Error(`${service} exited (${how}) before it was ready; its last lines:\n${state.tail.join('\n')}`);
    });

  const waitReady = async (service: InstanceName, state: Running): Promise<void> => {
    const deadline = Date.now() + readyTimeoutMs;
    let last: Readiness = { status: 0, body: 'no answer yet' };
    const dead: { error?: Error } = {};
    void exitedEarly(service, state).then((error) => (dead.error = error));
    while (Date.now() < deadline) {
      if (dead.error) throw dead.error;
      options.signal?.throwIfAborted();
      last = await getReadiness(instanceOf(service).url);
      if (last.status === 200) return;
      await sleep(250);
    }
    if (dead.error) throw dead.error;
    throw new Error(
      `${service} not ready after ${Math.round(readyTimeoutMs / 1000)} s: ${instanceOf(service).url}/health/ready answered ${last.status} ${JSON.stringify(last.body)}`,
    );
  };

  const signal = (state: Running, name: NodeJS.Signals) => {
    try {
      if (state.child.exitCode === null && state.child.signalCode === null) state.child.kill(name);
    } catch {
      // already gone
    }
  };

  const terminate = async (service: InstanceName): Promise<ExitReport | null> => {
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
          // Replicas share the group: its backlog is theirs together, so they stop together.
          const own = instances.filter((i) => i.service === service && running.has(i.name));
          if (own.length > 0) await drainBefore(service, flow, deadline);
          reports.push(...(await Promise.all(own.map((i) => terminate(i.name)))));
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

  for (const instance of instances) launch(instance);
  try {
    await Promise.all(instances.map((i) => waitReady(i.name, running.get(i.name)!)));
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    services,
    instances,
    urls,
    url: (instance) => instanceOf(instance).url,
    pid: (instance) => running.get(instance)?.child.pid,
    async readiness() {
      const entries = await Promise.all(instances.map(async (i) => [i.name, await getReadiness(i.url)] as const));
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
      await waitReady(service, launch(instanceOf(service)));
    },
    stop,
  };
}
