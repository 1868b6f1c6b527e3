// Loopback ports: tests take free ones so a developer's own broker on 9092 and any
// number of test brokers coexist.
import { connect, createServer, type Server } from 'node:net';

export const LOOPBACK = '127.0.0.1';

function listen(port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** `count` distinct ports that were free a moment ago (all held open together, then released). */
export async function freePorts(count: number, host: string = LOOPBACK): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => listen(0, host)));
  const ports = servers.map((s) => {
    const address = s.address();
    if (address === null || typeof address === 'string') throw new Error('no port bound');
    return address.port;
  });
  await Promise.all(servers.map(close));
  return ports;
}

/** Whether nothing listens on host:port (binding it is the only reliable test). */
export async function isPortFree(port: number, host: string = LOOPBACK): Promise<boolean> {
  try {
    await close(await listen(port, host));
    return true;
  } catch {
    return false;
  }
}

/** Whether something accepts TCP connections on host:port. */
export function isPortOpen(port: number, host: string = LOOPBACK, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
