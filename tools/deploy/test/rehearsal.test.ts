// Every service image's build, rehearsed outside Docker by following its Dockerfile
// (see src/rehearsal.ts): prune, `npm ci` on the pruned lockfile, build, prune dev
// dependencies, start the CMD on the in-memory bus, GET /health/ready, run the HEALTHCHECK,
// SIGTERM. Slow (an `npm ci` per image), so all images share one build context and one
// turbo cache, run one after the other, and each image's folder is removed once it passed.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOf, containerEnv, loadCompose } from '../src/compose/check.js';
import { prepareContext, rehearseImage, type Rehearsal } from '../src/rehearsal.js';
import { findRepoRoot, SERVICES } from '../src/services.js';

const root = findRepoRoot();
const IMAGE_TIMEOUT_MS = 15 * 60_000;
let work: string;
let context: string;
const durations: { image: string; seconds: number; slowest: string }[] = [];
const started = performance.now();

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'ehr-rehearsal-'));
  context = join(work, 'context');
  prepareContext(root, context);
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  const total = ((performance.now() - started) / 1000).toFixed(0);
  const lines = durations.map((d) => `  ${d.image.padEnd(10)} ${d.seconds.toFixed(0).padStart(4)} s   slowest step: ${d.slowest}`);
  process.stderr.write(`image build rehearsal: ${total} s in all\n${lines.join('\n')}\n`);
});

/** The compose services that run this image with a command of their own (the topics step). */
function composeCommandsFor(dockerfile: string) {
  const compose = loadCompose(join(root, 'docker-compose.yml'));
  return Object.entries(compose.document.services ?? {}).filter(
    ([, service]) => service.command && buildOf(service, root)?.dockerfile === resolve(root, dockerfile),
  );
}

function run(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('close', (code) => done({ code, output }));
  });
}

describe('image build rehearsal', () => {
  it.each(SERVICES.map((s) => [s.name, s] as const))(
    '%s: its Dockerfile builds from the pruned lockfile and the built entry point answers ready',
    async (name, info) => {
      const dockerfile = `${info.workspace}/Dockerfile`;
      const t0 = performance.now();
      let rehearsal: Rehearsal;
      try {
        rehearsal = await rehearseImage({
          root,
          dockerfile,
          workDir: join(work, name),
          context,
          turboCacheDir: join(work, 'turbo-cache'),
          runEnv: { DUCKDB_PATH: join(work, `${name}.duckdb`), LOG_LEVEL: 'warn' },
          // The dashboard's page comes from services/dashboard/public: it must be in the image.
          probes: ['/health/live', '/metrics', ...(name === 'dashboard' ? ['/'] : [])],
        });
        expect(rehearsal.facts.pruneTarget).toBe(info.packageName);
        expect(rehearsal.ready.status, JSON.stringify(rehearsal.ready.body)).toBe(200);
        expect(['ready', 'degraded']).toContain((rehearsal.ready.body as { status: string }).status);
        expect(Object.values(rehearsal.probes), JSON.stringify(rehearsal.probes)).toEqual(Object.values(rehearsal.probes).map(() => 200));
        expect(rehearsal.healthcheckExit).toBe(0);
        expect(rehearsal.stopped).toEqual({ code: 0, signal: null });

        for (const [service, spec] of composeCommandsFor(dockerfile)) {
          const argv = typeof spec.command === 'string' ? ['/bin/sh', '-c', spec.command] : spec.command!;
          const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...containerEnv(spec, {}) };
          delete env.KAFKA_BROKERS; // the in-memory bus: proves the command runs in this image's install
          const result = await run(argv, rehearsal.appDir, env);
          expect(result.code, `compose service ${service}: ${result.output}`).toBe(0);
        }
      } finally {
        rmSync(join(work, name), { recursive: true, force: true });
      }
      const slowest = [...rehearsal.steps].sort((a, b) => b.ms - a.ms)[0]!;
      durations.push({ image: name, seconds: (performance.now() - t0) / 1000, slowest: `${slowest.step} ${(slowest.ms / 1000).toFixed(0)} s` });
    },
    IMAGE_TIMEOUT_MS,
  );

  it(
    'init (apps/init/Dockerfile): builds from the pruned lockfile, and compose runs its topics and model steps in it',
    async () => {
      const t0 = performance.now();
      const dockerfile = 'apps/init/Dockerfile';
      let rehearsal: Rehearsal;
      try {
        rehearsal = await rehearseImage({ root, dockerfile, workDir: join(work, 'init'), context, turboCacheDir: join(work, 'turbo-cache'), runEnv: { LOG_LEVEL: 'warn' }, oneShot: true });
        expect(rehearsal.facts.pruneTarget).toBe('@ehr/init');
        expect(rehearsal.stopped.code).toBe(0);
        const steps = composeCommandsFor(dockerfile);
        expect(steps.map(([name]) => name).sort()).toEqual(['model', 'topics']);
        for (const [service, spec] of steps) {
          const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...containerEnv(spec, {}) };
          delete env.KAFKA_BROKERS; // the in-memory bus: proves the command runs in this image's install
          // The model step writes into the image's /app/data/model (the volume): here, inside the rehearsed /app.
          if (env.MODEL_PATH) env.MODEL_PATH = join(rehearsal.appDir, 'data/model/severity-model.json');
          const result = await run(spec.command as string[], rehearsal.appDir, env);
          expect(result.code, `compose service ${service}: ${result.output}`).toBe(0);
        }
      } finally {
        rmSync(join(work, 'init'), { recursive: true, force: true });
      }
      const slowest = [...rehearsal.steps].sort((a, b) => b.ms - a.ms)[0]!;
      durations.push({ image: 'init', seconds: (performance.now() - t0) / 1000, slowest: `${slowest.step} ${(slowest.ms / 1000).toFixed(0)} s` });
    },
    IMAGE_TIMEOUT_MS,
  );
});
