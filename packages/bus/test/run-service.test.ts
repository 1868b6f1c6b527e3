// A service that cannot start says why in one JSON line and exits 1: a configuration error
// names the variable and its rule, never a secret's value, and carries no stack trace.
import { Writable } from 'node:stream';
import { createMetricsRegistry, createServiceApp, portEnv, readConfig, Readiness, ServiceEnv } from '@ehr/runtime';
import { Type } from '@sinclair/typebox';
import { runCommand } from '@ehr/cli';
import { describe, expect, it } from 'vitest';
import { BusEnv, defineService, runService, serviceCommand } from '../src/index.js';

const Env = Type.Composite([ServiceEnv, portEnv(0), BusEnv, Type.Object({ DEMO_ADMIN_TOKEN: Type.Optional(Type.String({ minLength: 16, description: 'admin token' })) })]);

const manifest = defineService({
  name: 'demo',
  summary: 'a service for this test',
  defaultPort: 0,
  groupIdVariable: null,
  clientId: 'demo',
  stage: false,
  env: Env,
  loadConfig: (env) => readConfig(Env, env, 'demo'),
  create: ({ logger }) => ({
    app: createServiceApp({ service: 'demo', logger, metrics: createMetricsRegistry('demo', { defaultMetrics: false }), readiness: new Readiness('demo') }),
    start: async () => undefined,
    stop: async () => undefined,
  }),
});

class Exited extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

async function failedStart(env: Record<string, string>) {
  const lines: string[] = [];
  const logDestination = new Writable({
    write(chunk: Buffer, _e, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const exit = (code: number): never => {
    throw new Exited(code);
  };
  const outcome = await runService(manifest, env, process.cwd(), { exit, logDestination }).then(
    () => null,
    (e: unknown) => e,
  );
  return { outcome, lines };
}

describe('runService when the service cannot start', () => {
  it('prints one line naming the variable and the rule, without the secret or a stack trace, and exits 1', async () => {
    const { outcome, lines } = await failedStart({ DEMO_ADMIN_TOKEN: 'hunter2-short', PORT: '0' });
    expect(outcome).toBeInstanceOf(Exited);
    expect((outcome as Exited).code).toBe(1);
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ level: 'fatal', service: 'demo', problems: [{ variable: 'DEMO_ADMIN_TOKEN' }] });
    expect(line.msg).toMatch(/DEMO_ADMIN_TOKEN: Expected string length greater or equal to 16 \(value not shown: it is a secret\)/);
    expect(lines[0]).not.toContain('hunter2');
    expect(lines[0]).not.toMatch(/\bat .*\.(ts|js):\d+/);
  });

  it('shows the value of a variable that is not a secret', async () => {
    const { lines } = await failedStart({ PORT: 'eighty' });
    expect(JSON.parse(lines[0]!).msg).toMatch(/PORT: .*got "eighty"/);
  });
});

describe('runService on the command line', () => {
  const exit = (code: number): never => {
    throw new Exited(code);
  };

  it.each([
    [['--help'], 0],
    [['--port', '4001'], 2],
    [['extra'], 2],
  ])('%j: exits %i before anything starts (no configuration is even read)', async (argv, code) => {
    // A configuration that could not start: reaching it would exit 1 instead.
    const outcome = await runService(manifest, { DEMO_ADMIN_TOKEN: 'short' }, process.cwd(), { exit, argv }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(outcome).toEqual(new Exited(code));
  });

  it('the usage names the service, its summary and the variables that configure it', async () => {
    const out: string[] = [];
    const output = { out: (t: string) => void out.push(t), err: (t: string) => void out.push(t) };
    expect(await runCommand(serviceCommand(manifest, output), ['--help'], () => undefined, output)).toBe(0);
    const text = out.join('');
    expect(text).toMatch(/^Usage: demo {4}\(node services\/demo\/dist\/main\.js\)/);
    expect(text).toContain('The demo service: a service for this test.');
    expect(text).toContain('DEMO_ADMIN_TOKEN');
  });
});
