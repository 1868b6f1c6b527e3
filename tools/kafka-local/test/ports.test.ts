import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts, isPortFree, isPortOpen } from '../src/ports.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

function occupy(): Promise<number> {
  return new Promise((resolve) => {
    server = createServer().listen(0, '127.0.0.1', () => {
      const address = server!.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

describe('ports', () => {
  it('freePorts gives distinct ports that can be bound', async () => {
    const ports = await freePorts(3);
    expect(new Set(ports).size).toBe(3);
    for (const port of ports) expect(await isPortFree(port)).toBe(true);
  });

  it('tells a taken port from a free one', async () => {
    const port = await occupy();
    expect(await isPortFree(port)).toBe(false);
    expect(await isPortOpen(port)).toBe(true);
    const [free] = await freePorts(1);
    expect(await isPortOpen(free!)).toBe(false);
  });
});
