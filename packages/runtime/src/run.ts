import type { FastifyInstance } from 'fastify';
import type { Logger } from './logger.js';
import { GracefulShutdown } from './shutdown.js';

/** What a service's wiring returns: its HTTP app, and how to start and stop its stream work. */
export interface RunnableService {
  app: FastifyInstance;
  /** Connects, restores what it must, starts consuming. */
  start(): Promise<void>;
  /** Stops consuming, flushes, commits, closes connections. The app is closed before it. */
  stop(): Promise<void>;
}

export interface ListenOptions {
  service: string;
  host: string;
  port: number;
  logger: Logger;
  shutdownTimeoutMs: number;
  /** Exit the process on SIGINT/SIGTERM after shutting down (only a `main.ts` sets this). */
  exitOnSignals?: boolean;
}

/**
 * Listens first, so that `/health/ready` answers `not_ready` while the service connects
 * and restores its state, then starts the stream work. Returns the bound address and the
 * shutdown sequence: HTTP closes first (no new requests; those in flight finish, and new
 * ones on open connections get 503), and only then the stream work and its bus, so that
 * no request still running finds its bus closed and answers 500.
 */
export async function startAndListen(
  service: RunnableService,
  options: ListenOptions,
): Promise<{ url: string; shutdown: GracefulShutdown }> {
  const shutdown = new GracefulShutdown(options.logger, options.shutdownTimeoutMs)
    .add('close http', () => service.app.close())
    .add('stop stream work', () => service.stop());
  if (options.exitOnSignals) shutdown.exitOnSignals();
  try {
    await service.app.listen({ host: options.host, port: options.port });
    await service.start();
  } catch (err) {
    options.logger.fatal({ err }, `${options.service} failed to start`);
    await shutdown.run('start failed');
    throw err;
  }
  const address = service.app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host === '0.0.0.0' ? '127.0.0.1' : options.host === '::' ? '[::1]' : options.host;
  const scheme = service.app.initialConfig.https ? 'https' : 'http';
  return { url: `${scheme}://${host}:${port}`, shutdown };
}
