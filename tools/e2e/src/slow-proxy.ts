// An HTTP proxy on loopback that holds every request for `delayMs` before passing it on:
// makes a warehouse (the Snowflake test server) as slow as a test wants, and fast again.
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlowProxy {
  url: string;
  /** Current delay per request (ms); change it at any time. */
  delayMs: number;
  requests: number;
  close(): Promise<void>;
}

export async function startSlowProxy(target: string, delayMs: number): Promise<SlowProxy> {
  const to = new URL(target);
  const proxy: SlowProxy = { url: '', delayMs, requests: 0, close: async () => undefined };
  const server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    proxy.requests++;
    const chunks: Buffer[] = [];
    incoming.on('data', (c: Buffer) => chunks.push(c));
    incoming.on('end', () => {
      setTimeout(() => {
        const forward = request(
          { host: to.hostname, port: to.port, method: incoming.method, path: incoming.url, headers: { ...incoming.headers, host: to.host } },
          (answer) => {
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(outgoing);
          },
        );
        forward.on('error', () => {
          if (!outgoing.headersSent) outgoing.writeHead(502);
          outgoing.end();
        });
        forward.end(Buffer.concat(chunks));
      }, proxy.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
