// The HTTP variables every service reads: which host names it answers to, how long a
// client may take, TLS, and which reverse proxies it believes.
import { isIP } from 'node:net';
import { Type, type Static } from '@sinclair/typebox';
import { defineFormat } from './formats.js';

const LABEL = '[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?';
const HOST_ENTRY = `\\.?${LABEL}(\\.${LABEL})*`;

/** The entries of TRUST_PROXY, as Fastify is given them (blank entries dropped). */
export const trustedProxies = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * Why a TRUST_PROXY value is not a list of IP addresses, CIDR ranges or IPv4 address/netmask
 * pairs (naming the first entry that is not), or null. Fastify's proxy-addr throws a bare
 * TypeError at start-up for such an entry, or reads it as something else: `2` (a hop count?)
 * as the address 0.0.0.2. It refuses a prefix of 0 too.
 */
export function trustProxyProblem(value: string): string | null {
  const entries = trustedProxies(value);
  if (entries.length === 0) return 'no address in it';
  for (const entry of entries) {
    const why = proxyEntryProblem(entry);
    if (why) return `${JSON.stringify(entry)} ${why}`;
  }
  return null;
}

function proxyEntryProblem(entry: string): string | null {
  const slash = entry.indexOf('/');
  const address = slash < 0 ? entry : entry.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return 'is not an IP address';
  if (slash < 0) return null;
  const range = entry.slice(slash + 1);
  const bits = version === 4 ? 32 : 128;
  if (/^\d+$/.test(range)) return Number(range) >= 1 && Number(range) <= bits ? null : `has a prefix length outside 1–${bits}`;
  if (version === 4 && isNetmask(range)) return null;
  return version === 4 ? 'has neither a prefix length (1–32) nor a netmask after the /' : 'has no prefix length (1–128) after the /';
}

/** 255.255.240.0: ones then zeros, not all zeros. */
function isNetmask(text: string): boolean {
  if (isIP(text) !== 4) return false;
  const mask = text.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const hostBits = 2 ** 32 - 1 - mask;
  return mask > 0 && Number.isInteger(Math.log2(hostBits + 1));
}

const TRUST_PROXY_FORMAT = defineFormat('trust-proxy', trustProxyProblem);

export const HttpEnv = Type.Object({
  ALLOWED_HOSTS: Type.Optional(
    Type.String({
      pattern: `^\\s*${HOST_ENTRY}\\s*(,\\s*${HOST_ENTRY}\\s*)*$`,
      rule: 'comma-separated host names (`.example.org` for the domain and its subdomains)',
      description:
        'host names the HTTP server answers to besides localhost and IP addresses; any other Host header gets 421 (DNS rebinding)',
    }),
  ),
  HTTP_REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 1_000, maximum: 600_000, default: 30_000, description: 'longest time a client may take to send a whole request' }),
  HTTP_HEADERS_TIMEOUT_MS: Type.Integer({ minimum: 1_000, maximum: 600_000, default: 10_000, description: 'longest time a client may take to send the request headers (at most HTTP_REQUEST_TIMEOUT_MS)' }),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: Type.Integer({ minimum: 1_000, maximum: 600_000, default: 5_000, description: 'an idle keep-alive connection is closed after this long' }),
  TLS_CERT_FILE: Type.Optional(Type.String({ minLength: 1, description: 'PEM certificate (chain): serve HTTPS instead of HTTP (with TLS_KEY_FILE)' })),
  TLS_KEY_FILE: Type.Optional(Type.String({ minLength: 1, description: 'PEM private key of TLS_CERT_FILE' })),
  TRUST_PROXY: Type.Optional(
    Type.String({
      format: TRUST_PROXY_FORMAT,
      rule: 'comma-separated IP addresses or CIDR ranges',
      description: 'reverse proxies whose X-Forwarded-For, -Proto and -Host headers are believed (client address, https, host name)',
    }),
  ),
});
export type HttpConfig = Static<typeof HttpEnv>;
