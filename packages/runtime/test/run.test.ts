import { describe, expect, it } from 'vitest';
import { createLogger, createMetricsRegistry, createServiceApp, Readiness, startAndListen } from '../src/index.js';

const logger = createLogger({ service: 'svc', level: 'silent' });

describe('startAndListen shutdown order', () => {
  it('stops taking requests and lets those in flight finish before the stream work (and its bus) stops', async () => {
    const app = createServiceApp({ service: 'svc', logger, metrics: createMetricsRegistry('svc', { defaultMetrics: false }), readiness: new Readiness('svc') });
    let busOpen = true;
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    app.post('/events', async (_request, reply) => {
      entered();
      await new Promise((r) => setTimeout(r, 300));
      // What the producer does: publish on the bus, which refuses once closed.
      if (!busOpen) throw new Error('cannot produce: bus is closed');
      return reply.code(202).send({ accepted: 1 });
    });
    const steps: string[] = [];
    const { url, shutdown } = await startAndListen(
      {
        app,
        start: async () => undefined,
        stop: async () => {
          steps.push('stop stream work');
          busOpen = false;
        },
      },
      { service: 'svc', host: '127.0.0.1', port: 0, logger, shutdownTimeoutMs: 5_000 },
    );
    app.server.on('close', () => steps.push('http closed'));
    const inFlight = fetch(`${url}/events`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    await inHandler;
    const stopped = shutdown.run('SIGTERM');
    const response = await inFlight;
    expect(response.status).toBe(202);
    expect(await stopped).toBe(true);
    expect(steps).toEqual(['http closed', 'stop stream work']);
    // Nobody new gets in once it is stopping.
    await expect(fetch(`${url}/events`, { method: 'POST', body: '{}' })).rejects.toThrow();
  });
});
