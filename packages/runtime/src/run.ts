import type { FastifyInstance } from 'fastify';
import type { Logger } from './logger.js';
import { GracefulShutdown } from './shutdown.js';

/** What a service's wiring returns: its HTTP app, and how to start and stop its stream work. */
export interface RunnableService {
  app: FastifyInstance;
  /** Connects, restores what it must, starts consuming. */
  start(): Promise<void>;
  /** Stops consuming, flushes, commits, closes connections. The app is closed after it. */
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
 * shutdown sequence.
 */
export async function startAndListen(
  service: RunnableService,
  options: ListenOptions,
): Promise<{ url: string; shutdown: GracefulShutdown }> {
  const shutdown = new GracefulShutdown(options.logger, options.shutdownTimeoutMs)
    .add('stop stream work', () => service.stop())
    .add('close http', () => service.app.close());
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
  const host = options.host === '0.0.0.0' ? '127.0.0.1' : options.host;
  return { url: `http://${host}:${port}`, shutdown };
}
