// The HTTP variables every service reads: which host names it answers to, how long a
// client may take, TLS, and which reverse proxies it believes.
import { Type, type Static } from '@sinclair/typebox';

const LABEL = '[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?';
const HOST_ENTRY = `\\.?${LABEL}(\\.${LABEL})*`;

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
      pattern: '^[0-9A-Fa-f.:/,\\s]+$',
      rule: 'comma-separated IP addresses or CIDR ranges',
      description: 'reverse proxies whose X-Forwarded-For, -Proto and -Host headers are believed (client address, https, host name)',
    }),
  ),
});
export type HttpConfig = Static<typeof HttpEnv>;
