// A service as one value, its manifest: what the launcher, the stack, the compose checks
// and the configuration reference need to know about it, and how to build it. A service's
// `main.ts` is one call (`runService`), and a sixth service is one folder and one entry in
// the launcher's list.
import type { TObject } from '@sinclair/typebox';
import { parseOrExit } from '@ehr/cli';
import { ConfigError, createLogger, errorMessage, startAndListen, type GracefulShutdown, type Logger, type RunnableService } from '@ehr/runtime';
import { createBus, type BusEnv } from './env.js';
import type { MemoryBroker } from './memory-bus.js';
import { serviceCommand } from './service-command.js';
import type { Bus } from './types.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** What every service's configuration has: enough to wire its bus, log and listen. */
export type ServiceBaseConfig = BusEnv & { HOST: string; PORT: number; LOG_LEVEL: string; SHUTDOWN_TIMEOUT_MS: number };

/** What a service's factory receives. */
export interface ServiceDeps<C extends ServiceBaseConfig> {
  config: C;
  logger: Logger;
  bus: Bus;
  /** Working directory that relative paths in the configuration resolve against. */
  cwd: string;
  /** Base URLs of the other services in this process (the all-in-one launcher), by name. */
  peers?: () => Record<string, string>;
}

interface ManifestFields<Name extends string> {
  name: Name;
  /** One line for usage texts and docs. */
  summary: string;
  defaultPort: number;
  /** The variable naming its consumer group; null for a service that only produces. */
  groupIdVariable: string | null;
  /** Kafka client id unless KAFKA_CLIENT_ID says otherwise. */
  clientId: string;
  /** One of the four stages the events flow through (the dashboard only watches). */
  stage: boolean;
  /** Its configuration schema (env → typed config), for validation and the reference table. */
  env: TObject;
  /** The line it prints once it listens (default `<name> ready: <url>/health/ready`). */
  readyLine?: (url: string) => string;
  /**
   * The variable through which it learns the other services' base URLs
   * (`name=http://host:port,…`), for a service that watches the others; a launcher in one
   * process hands it `peers` instead.
   */
  peersVariable?: string;
  /**
   * Flags for the Node process that runs it alone (its image's CMD, `npm run stack`): e.g. a
   * V8 heap limit that keeps its resident memory within what it promises. (`npm start` runs
   * every service in one process, where no one service's limit applies.)
   */
  nodeFlags?: readonly string[];
  /**
   * Environment its process must start with, for native libraries that read it only at
   * startup (glibc's malloc, libuv's thread pool): set by its image (ENV) and by `npm run
   * stack` unless the environment already says otherwise.
   */
  processEnv?: Readonly<Record<string, string>>;
}

/** A manifest with its config type known: what a service writes. */
export interface ServiceDefinition<Name extends string, C extends ServiceBaseConfig> extends ManifestFields<Name> {
  loadConfig: (env: Env) => C;
  create: (deps: ServiceDeps<NoInfer<C>>) => RunnableService;
}

/** How one process wires a service: shared in-memory broker, log level and destination. */
export interface ServiceWiring {
  cwd: string;
  memoryBroker?: MemoryBroker;
  /** Overrides LOG_LEVEL from the service's configuration. */
  logLevel?: string;
  logDestination?: NodeJS.WritableStream;
  peers?: () => Record<string, string>;
}

export interface AssembledService {
  config: ServiceBaseConfig;
  logger: Logger;
  bus: Bus;
  service: RunnableService;
}

/** A manifest as the launcher and tools hold it: its config type erased behind `assemble`. */
export interface ServiceManifest<Name extends string = string> extends ManifestFields<Name> {
  /** Validates the configuration only (throws ConfigError naming the variable). */
  checkConfig(env: Env): ServiceBaseConfig;
  /** env → validated config → logger, bus client, service; nothing connects or listens yet. */
  assemble(env: Env, wiring: ServiceWiring): AssembledService;
}

export function defineService<Name extends string, C extends ServiceBaseConfig>(definition: ServiceDefinition<Name, C>): ServiceManifest<Name> {
  const { loadConfig, create, ...fields } = definition;
  return {
    ...fields,
    checkConfig: loadConfig,
    assemble(env, wiring) {
      const config = loadConfig(env);
      const logger = createLogger({
        service: definition.name,
        level: wiring.logLevel ?? config.LOG_LEVEL,
        ...(wiring.logDestination ? { destination: wiring.logDestination } : {}),
      });
      const bus = createBus(config, { clientId: definition.clientId, logger, ...(wiring.memoryBroker ? { memoryBroker: wiring.memoryBroker } : {}) });
      const service = create({ config, logger, bus, cwd: wiring.cwd, ...(wiring.peers ? { peers: wiring.peers } : {}) });
      return { config, logger, bus, service };
    },
  };
}

export const readyLineOf = (manifest: ServiceManifest, url: string): string => manifest.readyLine?.(url) ?? `${manifest.name} ready: ${url}/health/ready`;

export interface ListeningService extends AssembledService {
  url: string;
  shutdown: GracefulShutdown;
}

/** Assembles, listens (readiness answers while it connects), starts the stream work. */
export async function listenService(
  manifest: ServiceManifest,
  env: Env,
  wiring: ServiceWiring,
  options: { exitOnSignals?: boolean } = {},
): Promise<ListeningService> {
  const assembled = manifest.assemble(env, wiring);
  const { config, logger, service } = assembled;
  const { url, shutdown } = await startAndListen(service, {
    service: manifest.name,
    host: config.HOST,
    port: config.PORT,
    logger,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    ...(options.exitOnSignals ? { exitOnSignals: true } : {}),
  });
  return { ...assembled, url, shutdown };
}

/**
 * A service's `main.ts`: configuration from `env`, real dependencies, listen, stop on
 * SIGINT/SIGTERM. A service that cannot start says why in one JSON line and exits 1: a
 * configuration error names each variable and its rule (never a secret's value) and
 * prints no stack trace, since the fix is in the environment, not in the code. With
 * `argv` (the process's arguments), --help prints the usage and exits 0, and any other
 * flag exits 2, before anything starts.
 */
export async function runService(
  manifest: ServiceManifest,
  env: Env,
  cwd: string,
  options: { exit?: (code: number) => never; logDestination?: NodeJS.WritableStream; argv?: readonly string[] } = {},
): Promise<ListeningService> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  // The command line first: --help or a stray flag ends here, before anything connects.
  if (options.argv) await parseOrExit(serviceCommand(manifest), options.argv, exit);
  const wiring = { cwd, ...(options.logDestination ? { logDestination: options.logDestination } : {}) };
  try {
    const running = await listenService(manifest, env, wiring, { exitOnSignals: true });
    running.logger.info({ url: running.url, bus: running.bus.kind }, readyLineOf(manifest, running.url));
    return running;
  } catch (err) {
    // Its own logger: the configuration that would say the level is what failed.
    const logger = createLogger({ service: manifest.name, level: 'fatal', ...(options.logDestination ? { destination: options.logDestination } : {}) });
    if (err instanceof ConfigError) logger.fatal({ problems: err.problems }, `${manifest.name} cannot start: ${err.message}`);
    else logger.fatal({ error: errorMessage(err) }, `${manifest.name} did not start: ${errorMessage(err)}`);
    return exit(1);
  }
}
