// A graceful stop with requests in flight: HTTP stops taking requests and lets those in
// flight finish before the bus closes, so none of them fails.
import { startAndListen } from '@ehr/runtime';
import { describe, expect, it } from 'vitest';
import { createProducerService, loadConfig } from '../src/index.js';
import { HeldBus } from './held-bus.js';
import { heartRate, logger } from './helpers.js';

const event = (i: number) => heartRate(`stop-${i}`, 70, `p-${i}`);

describe('producer graceful stop', () => {
  it('answers every request in flight when SIGTERM comes, and only then closes the bus', async () => {
    const bus = new HeldBus();
    const service = createProducerService({ config: loadConfig({ PRODUCER_PUBLISH_TIMEOUT_MS: '20000' }), logger, bus });
    const { url, shutdown } = await startAndListen(service, { service: 'producer', host: '127.0.0.1', port: 0, logger, shutdownTimeoutMs: 20_000 });
    bus.hold();
    const inFlight = Array.from({ length: 8 }, (_, i) =>
      fetch(`${url}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([event(i)]) }).then((r) => r.status),
    );
    await expect.poll(() => bus.waiting).toBe(8);
    const stopped = shutdown.run('SIGTERM');
    // The broker confirms a moment after the stop began.
    setTimeout(() => bus.release(), 200);
    expect(await Promise.all(inFlight)).toEqual(Array(8).fill(202));
    expect(await stopped).toBe(true);
    expect(bus.status().state).toBe('down');
  });
});
