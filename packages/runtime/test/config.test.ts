import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { AuthEnv, ConfigError, portEnv, readConfig, ServiceEnv } from '../src/index.js';

const Schema = Type.Composite([
  ServiceEnv,
  Type.Object({
    PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3002 }),
    DEBOUNCE_MS: Type.Integer({ minimum: 0, default: 0 }),
    STRICT: Type.Boolean({ default: false }),
    TOKEN: Type.String({ minLength: 8, description: 'admin token' }),
  }),
]);

describe('readConfig', () => {
  it('applies defaults and coerces strings', () => {
    const c = readConfig(Schema, { PORT: '4000', STRICT: 'true', TOKEN: 'abcdefgh', LOG_LEVEL: '' });
    expect(c).toMatchObject({ PORT: 4000, STRICT: true, DEBOUNCE_MS: 0, LOG_LEVEL: 'info', HOST: '127.0.0.1' });
  });

  it('fails fast naming every bad variable', () => {
    let error: unknown;
    try {
      readConfig(Schema, { PORT: 'eighty', LOG_LEVEL: 'loud' }, 'feature');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const e = error as ConfigError;
    expect(e.problems.map((p) => p.variable).sort()).toEqual(['LOG_LEVEL', 'PORT', 'TOKEN']);
    expect(e.message).toContain('invalid configuration for feature');
    expect(e.message).toMatch(/PORT: .*got "eighty"/);
    expect(e.message).toMatch(/LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent/);
    expect(e.message).toMatch(/TOKEN: is required \(it is not set\) — admin token/);
  });
});

describe('readConfig and secrets', () => {
  const Secrets = Type.Composite([
    AuthEnv,
    Type.Object({ SCORING_ADMIN_TOKEN: Type.Optional(Type.String({ minLength: 16 })), KAFKA_SASL_PASSWORD: Type.Optional(Type.String({ minLength: 12 })) }),
  ]);

  it('names the variable and the rule, never the value of a secret', () => {
    let error: unknown;
    try {
      readConfig(Secrets, { AUTH_INGEST_TOKENS: 'too-short-secret-value', SCORING_ADMIN_TOKEN: 'short-admin', KAFKA_SASL_PASSWORD: 'pw-secret' }, 'producer');
    } catch (e) {
      error = e;
    }
    const e = error as ConfigError;
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.problems.map((p) => p.variable).sort()).toEqual(['AUTH_INGEST_TOKENS', 'KAFKA_SASL_PASSWORD', 'SCORING_ADMIN_TOKEN']);
    expect(e.message).toMatch(/AUTH_INGEST_TOKENS: must be comma-separated tokens of at least 32 printable characters each .*\(value not shown: it is a secret\)/);
    expect(e.message).toMatch(/SCORING_ADMIN_TOKEN: Expected string length greater or equal to 16 \(value not shown: it is a secret\)/);
    for (const secret of ['too-short-secret-value', 'short-admin', 'pw-secret']) expect(JSON.stringify({ m: e.message, p: e.problems })).not.toContain(secret);
  });

  it('accepts several tokens per scope', () => {
    const tokens = 'a'.repeat(32) + ' , ' + 'b'.repeat(40);
    expect(readConfig(AuthEnv, { AUTH_READ_TOKENS: tokens, ALLOW_INSECURE: 'true' })).toEqual({ AUTH_READ_TOKENS: tokens, ALLOW_INSECURE: true });
  });
});

/** The problems readConfig names, or null when it accepts the environment. */
function problemsOf(schema: Parameters<typeof readConfig>[0], env: Record<string, string>): ConfigError['problems'] | null {
  try {
    readConfig(schema, env, 'svc');
    return null;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems;
  }
}

describe('readConfig and numbers', () => {
  const Numbers = Type.Composite([
    ServiceEnv,
    portEnv(4000),
    Type.Object({
      MAX_PATIENTS: Type.Integer({ minimum: 1, default: 50_000 }),
      RATE: Type.Number({ minimum: 0, default: 50 }),
      SPEED: Type.Optional(Type.Union([Type.Literal('max'), Type.Number({ exclusiveMinimum: 0 })])),
    }),
  ]);

  it('refuses a whole number written other than in plain digits, instead of reading its first digits (5e4 was 5)', () => {
    const written = [['MAX_PATIENTS', '5e4'], ['MAX_PATIENTS', '1.5e5'], ['PORT', '4000.7'], ['PORT', '8e3'], ['PORT', '0x1F90'], ['HTTP_REQUEST_TIMEOUT_MS', '6e4'], ['SHUTDOWN_TIMEOUT_MS', 'true']];
    for (const [variable, value] of written) {
      expect(problemsOf(Numbers, { [variable!]: value! }), `${variable}=${value}`).toEqual([
        { variable, message: expect.stringMatching(new RegExp(`^must be a whole number in plain digits .*\\(got ${JSON.stringify(value)}\\)`)) },
      ]);
    }
    expect(readConfig(Numbers, { MAX_PATIENTS: ' 60000 ', PORT: '+8080' })).toMatchObject({ MAX_PATIENTS: 60_000, PORT: 8080 });
  });

  it('reads a decimal number as written (no hex, no Infinity), and a union\'s word as a word', () => {
    expect(readConfig(Numbers, { RATE: '1e2', SPEED: 'max' })).toMatchObject({ RATE: 100, SPEED: 'max' });
    expect(readConfig(Numbers, { RATE: '.5', SPEED: '2.5' })).toMatchObject({ RATE: 0.5, SPEED: 2.5 });
    for (const value of ['0x10', 'Infinity', '1e999', ' ']) {
      expect(problemsOf(Numbers, { RATE: value }), value).toEqual([{ variable: 'RATE', message: expect.stringMatching(/^must be a decimal number /) }]);
    }
    expect(problemsOf(Numbers, { SPEED: '0x10' })).toEqual([{ variable: 'SPEED', message: expect.stringMatching(/^must be max or a decimal number .*\(got "0x10"\)/) }]);
  });

  it('names every bad variable at once, the numbers written wrong among them', () => {
    expect(problemsOf(Numbers, { PORT: '8e3', LOG_LEVEL: 'loud' })?.map((p) => p.variable).sort()).toEqual(['LOG_LEVEL', 'PORT']);
  });
});

describe('readConfig and TRUST_PROXY', () => {
  it('takes IP addresses, CIDR ranges and IPv4 netmasks', () => {
    const value = '10.0.0.1, 10.0.0.0/8, ::1, fd00::/8, 192.168.0.0/255.255.0.0';
    expect(readConfig(ServiceEnv, { TRUST_PROXY: value }).TRUST_PROXY).toBe(value);
  });

  it('names the entry that is not an address or range, which Fastify would refuse with a bare TypeError at start-up', () => {
    const refused: [string, string][] = [
      ['ffff', '"ffff" is not an IP address'],
      ['10.0.0.1, 10.0.0.0/99', '"10.0.0.0/99" has a prefix length outside 1–32'],
      ['::1/129', '"::1/129" has a prefix length outside 1–128'],
      ['10.0.0.0/0', '"10.0.0.0/0" has a prefix length outside 1–32'],
      ['10.0.0.0/255.0.255.0', '"10.0.0.0/255.0.255.0" has neither a prefix length (1–32) nor a netmask after the /'],
      // Not a hop count: proxy-addr would read it as the address 0.0.0.2.
      ['2', '"2" is not an IP address'],
    ];
    for (const [value, why] of refused) {
      expect(problemsOf(ServiceEnv, { TRUST_PROXY: value }), value).toEqual([
        { variable: 'TRUST_PROXY', message: expect.stringContaining(`must be comma-separated IP addresses or CIDR ranges: ${why} (got ${JSON.stringify(value)})`) },
      ]);
    }
  });
});
