// The HTTP server itself: timeouts a slow client cannot outlast, and HTTPS from a
// certificate file (a self-signed one made with the system's openssl).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ConfigError, createLogger, createMetricsRegistry, createServiceApp, Readiness, startAndListen, type HttpConfig } from '../src/index.js';

const logger = createLogger({ service: 'svc', level: 'silent' });
const build = (http: Partial<HttpConfig>) =>
  createServiceApp({ service: 'svc', logger, metrics: createMetricsRegistry('svc', { defaultMetrics: false }), readiness: new Readiness('svc'), http });

const dir = mkdtempSync(join(tmpdir(), 'runtime-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A self-signed certificate for 127.0.0.1 and localhost. */
function selfSigned(): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`this test makes its certificate with openssl: install it (apt-get install -y openssl): ${(err as Error).message}`);
  }
  return { cert, key };
}

describe('HTTP server settings', () => {
  const apps: FastifyInstance[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });

  it('sets request, header and keep-alive timeouts on the server', () => {
    const app = build({ HTTP_REQUEST_TIMEOUT_MS: 20_000, HTTP_HEADERS_TIMEOUT_MS: 4_000, HTTP_KEEP_ALIVE_TIMEOUT_MS: 3_000 });
    apps.push(app);
    expect([app.server.requestTimeout, app.server.headersTimeout, app.server.keepAliveTimeout]).toEqual([20_000, 4_000, 3_000]);
    const defaults = build({});
    apps.push(defaults);
    expect([defaults.server.requestTimeout, defaults.server.headersTimeout, defaults.server.keepAliveTimeout]).toEqual([30_000, 10_000, 5_000]);
    expect(() => build({ HTTP_REQUEST_TIMEOUT_MS: 2_000, HTTP_HEADERS_TIMEOUT_MS: 5_000 })).toThrow(ConfigError);
  });

  it('believes the TRUST_PROXY addresses readConfig takes, and refuses any other with a ConfigError naming it, not Fastify\'s TypeError', async () => {
    for (const TRUST_PROXY of ['10.0.0.1', '10.0.0.0/8, ::1', 'fd00::/8', '::ffff:10.0.0.0/104', '192.168.0.0/255.255.0.0']) {
      const app = build({ TRUST_PROXY });
      apps.push(app);
      await app.ready();
    }
    for (const TRUST_PROXY of ['ffff', '10.0.0.0/99']) {
      expect(() => build({ TRUST_PROXY }), TRUST_PROXY).toThrow(ConfigError);
      expect(() => build({ TRUST_PROXY }), TRUST_PROXY).toThrow(/TRUST_PROXY: must be comma-separated IP addresses or CIDR ranges/);
    }
  });

  it('cuts off a client that never finishes its headers (slowloris)', async () => {
    const app = build({ HTTP_HEADERS_TIMEOUT_MS: 1_000, HTTP_REQUEST_TIMEOUT_MS: 2_000 });
    apps.push(app);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const socket = connect(port, '127.0.0.1');
    const answer = await new Promise<string>((resolve, reject) => {
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.write('GET /health/live HTTP/1.1\r\nHost: localhost\r\n');
      // …and never the blank line that ends the headers. Without a deadline this waits forever.
      setTimeout(() => reject(new Error('the server kept a half-sent request open for 20 s')), 20_000).unref();
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('serves HTTPS with a certificate file, and says https in its URL', async () => {
    const { cert, key } = selfSigned();
    const app = build({ TLS_CERT_FILE: cert, TLS_KEY_FILE: key });
    apps.push(app);
    const { url, shutdown } = await startAndListen({ app, start: async () => undefined, stop: async () => undefined }, { service: 'svc', host: '127.0.0.1', port: 0, logger, shutdownTimeoutMs: 5_000 });
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = (await import('node:fs')).readFileSync(cert);
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(`${url}/health/live`, { ca }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve(`${res.statusCode} ${text}`));
      });
      req.on('error', reject);
      req.end();
    });
    expect(body).toMatch(/^200 .*"status":"live"/);
    // Plain HTTP on the same port gets no answer it could read as HTTP.
    const plain = await fetch(url.replace('https:', 'http:') + '/health/live').then((r) => r.status, () => 'refused');
    expect(plain).not.toBe(200);
    await shutdown.run('test');
  });

  it('refuses half a TLS configuration, or an unreadable file, naming the variable', () => {
    expect(() => build({ TLS_CERT_FILE: '/nowhere/cert.pem' })).toThrow(/TLS_KEY_FILE: is required/);
    expect(() => build({ TLS_CERT_FILE: '/nowhere/cert.pem', TLS_KEY_FILE: '/nowhere/key.pem' })).toThrow(/TLS_CERT_FILE: cannot read \/nowhere\/cert\.pem \(ENOENT\)/);
  });
});
