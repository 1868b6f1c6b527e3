// An image's build, rehearsed without Docker by following its Dockerfile: the build
// context (the repository minus .dockerignore), the prune stage's `turbo prune`, the build
// stage's COPY and RUN steps in order in a folder standing for its /app, then the final
// stage's CMD with its ENV, the HEALTHCHECK command, and a graceful stop.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, posix, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePorts } from '@ehr/kafka-local';
import {
  commandArgv,
  findStage,
  readDockerfile,
  serviceImageFacts,
  stageArgs,
  stageChain,
  stageEnv,
  substitute,
  type DockerInstruction,
  type DockerStage,
  type Dockerfile,
  type ServiceImageFacts,
} from './dockerfile.js';

export interface RehearsalStep {
  /** What was done, e.g. `RUN npm ci --no-audit --no-fund` (line 22). */
  step: string;
  ms: number;
}

export interface Rehearsal {
  dockerfile: string;
  facts: ServiceImageFacts;
  /** The folder standing for the built image's /app. */
  appDir: string;
  steps: RehearsalStep[];
  /** GET /health/ready of the started entry point. */
  ready: { status: number; body: unknown };
  /** Status of each probed path (`probes`) while the service ran. */
  probes: Record<string, number>;
  /** Exit code of the Dockerfile's HEALTHCHECK command against the running service. */
  healthcheckExit: number | null;
  /** How the service ended on SIGTERM. */
  stopped: { code: number | null; signal: NodeJS.Signals | null };
  /** Output of the service, for a failure's message. */
  log: string[];
}

export interface RehearsalOptions {
  /** Repository root: the build context. */
  root: string;
  /** Path of the Dockerfile, relative to the root or absolute. */
  dockerfile: string;
  /** Scratch folder for this image (created; left in place for inspection). */
  workDir: string;
  /** A context folder already prepared by prepareContext (shared between images). */
  context?: string;
  /** Turbo's cache folder, shared between images so common packages build once. */
  turboCacheDir?: string;
  /** Extra variables for the started service (e.g. DUCKDB_PATH). */
  runEnv?: Record<string, string>;
  /** More paths to GET while the service runs (default /health/live and /metrics). */
  probes?: string[];
  /** How long the service gets to answer 200 on /health/ready (default 90 s). */
  readyTimeoutMs?: number;
  /** Each step as it finishes. */
  onStep?: (step: RehearsalStep) => void;
  /** Versions of the tools a Dockerfile installs globally, as the rehearsal has them (default: read from the repository). */
  tools?: { npm: string; turbo: string };
  /** An image of one-shot steps (no server): its CMD is run to its exit instead of probed. */
  oneShot?: boolean;
}

const APP = '/app';
interface DockerIgnore {
  add(patterns: string | string[]): DockerIgnore;
  ignores(path: string): boolean;
}
// CommonJS whose typings claim an ES default export; require gives the factory itself.
const require = createRequire(import.meta.url);
const createIgnore = require('@balena/dockerignore') as () => DockerIgnore;

function toolVersions(root: string): { npm: string; turbo: string } {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { packageManager?: string };
  const turbo = JSON.parse(readFileSync(join(root, 'node_modules/turbo/package.json'), 'utf8')) as { version: string };
  const npm = /^npm@(.+)$/.exec(manifest.packageManager ?? '')?.[1];
  if (!npm) throw new Error('the root package.json has no packageManager npm@<version>');
  return { npm, turbo: turbo.version };
}

/** Copies the build context (the repository minus what .dockerignore excludes) into `target`. */
export function prepareContext(root: string, target: string): { files: number } {
  const ignoreFile = join(root, '.dockerignore');
  const ig = createIgnore().add(existsSync(ignoreFile) ? readFileSync(ignoreFile, 'utf8') : '');
  let files = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const abs = join(dir, entry.name);
      const rel = relative(root, abs).split('\\').join('/');
      if (ig.ignores(rel)) continue;
      if (entry.isDirectory()) walk(abs);
      else if (entry.isFile() || entry.isSymbolicLink()) {
        mkdirSync(join(target, relative(root, dir)), { recursive: true });
        cpSync(abs, join(target, rel), { dereference: false });
        files += 1;
      }
    }
  };
  mkdirSync(target, { recursive: true });
  walk(root);
  return { files };
}

function run(argv: string[], cwd: string, env: NodeJS.ProcessEnv, what: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    const keep = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.length > 200) output.shift();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolvePromise();
      else reject(new Error(`${what} failed (${signal ?? `exit ${code}`}) in ${cwd}:\n${output.join('').split('\n').slice(-40).join('\n')}`));
    });
  });
}

/** A global tool install (`npm install --global turbo@X`): checked against the rehearsal's own version, not run. */
function globalInstall(command: string): { tool: string; version: string } | null {
  const m = /^npm\s+(?:install|i)\s+(?:--global|-g)\s+(npm|turbo)@(\S+)\s*$/.exec(command.trim());
  return m ? { tool: m[1]!, version: m[2]! } : null;
}

/** Maps a container path of a stage to the rehearsal's folder for it. */
function hostPath(stageRoot: string, containerPath: string, workdir: string): string {
  const absolute = posix.resolve(workdir, containerPath);
  if (absolute !== APP && !absolute.startsWith(`${APP}/`)) {
    throw new Error(`the rehearsal only follows paths under ${APP}, got ${containerPath}`);
  }
  return join(stageRoot, posix.relative(APP, absolute));
}

/** Docker's COPY: a folder's contents into dest; a file into dest when dest is a folder (or ends in /). */
function copyInto(source: string, dest: string, destIsFolder: boolean): void {
  if (!existsSync(source)) throw new Error(`COPY source ${source} does not exist`);
  const intoFolder = statSync(source).isFile() && (destIsFolder || (existsSync(dest) && statSync(dest).isDirectory()));
  cpSync(source, intoFolder ? join(dest, basename(source)) : dest, { recursive: true, force: true, dereference: false });
}

export async function rehearseImage(options: RehearsalOptions): Promise<Rehearsal> {
  const root = resolve(options.root);
  const dockerfilePath = resolve(root, options.dockerfile);
  const dockerfile = readDockerfile(dockerfilePath);
  const facts = serviceImageFacts(dockerfile);
  const tools = options.tools ?? toolVersions(root);
  const steps: RehearsalStep[] = [];
  const timed = async <T>(step: string, work: () => Promise<T> | T): Promise<T> => {
    const started = performance.now();
    const result = await work();
    const done = { step, ms: Math.round(performance.now() - started) };
    steps.push(done);
    options.onStep?.(done);
    return result;
  };
  const where = (i: DockerInstruction) => `${relative(root, dockerfilePath)}:${i.line + 1}`;

  if (!facts.pruneStage || !facts.pruneTarget) throw new Error(`${dockerfilePath}: no stage runs \`turbo prune <package> --docker\``);
  mkdirSync(options.workDir, { recursive: true });
  const context = options.context ?? join(options.workDir, 'context');
  if (!options.context) await timed('build context (.dockerignore applied)', () => prepareContext(root, context));

  // Each stage gets a folder standing for its /app. The prune stage's starts as the context
  // (its `COPY . .`); the others start empty, as their FROM images have an empty /app.
  const stageRoots = new Map<DockerStage, string>();
  const baseEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    // The npm cache of this machine stands for the registry: same packages, no downloads.
    npm_config_prefer_offline: 'true',
    ...(options.turboCacheDir ? { TURBO_CACHE_DIR: options.turboCacheDir } : {}),
  };

  const builtFrom = stageFeeding(dockerfile, facts.runtime);
  for (const stage of [facts.pruneStage, ...(builtFrom ? [builtFrom] : [])]) {
    const stageRoot = join(options.workDir, stage.name ?? `stage-${stage.index}`);
    rmSync(stageRoot, { recursive: true, force: true });
    mkdirSync(stageRoot, { recursive: true });
    stageRoots.set(stage, stageRoot);
    let workdir = APP;
    const env: NodeJS.ProcessEnv = { ...baseEnv, ...stageEnv(dockerfile, stage) };
    // A stage starts from what its FROM stages did (`FROM base AS build` runs base's steps first).
    for (const step of stageChain(dockerfile, stage).flatMap((s) => s.instructions.map((i) => ({ s, i })))) {
      const { s, i } = step;
      const content = substitute(i.content, stageArgs(dockerfile, s, i.line + 1));
      switch (i.keyword) {
        case 'ARG':
        case 'ENV':
        case 'LABEL':
          break; // ARGs are substituted per instruction; ENV is in `env` already
        case 'WORKDIR':
          workdir = posix.resolve(workdir, content);
          hostPath(stageRoot, workdir, APP);
          break;
        case 'COPY': {
          const parts = content.split(/\s+/).filter(Boolean);
          const destText = parts.pop()!;
          const dest = hostPath(stageRoot, destText, workdir);
          const destIsFolder = destText.endsWith('/') || destText === '.' || parts.length > 1;
          const from = i.flags.from;
          for (const src of parts) {
            if (from) {
              const source = findStage(dockerfile, from);
              const sourceRoot = source && stageRoots.get(source);
              if (!sourceRoot) throw new Error(`${where(i)}: COPY --from=${from}: that stage was not rehearsed`);
              await timed(`COPY --from=${from} ${src} (${where(i)})`, () => copyInto(hostPath(sourceRoot, src, APP), dest, destIsFolder));
            } else {
              await timed(`COPY ${src} (${where(i)})`, () => copyInto(join(context, src), dest, destIsFolder));
            }
          }
          break;
        }
        case 'RUN': {
          const tool = globalInstall(content);
          if (tool) {
            const have = tools[tool.tool as 'npm' | 'turbo'];
            if (have !== tool.version) {
              throw new Error(`${where(i)}: the image installs ${tool.tool}@${tool.version} but the repository uses ${tool.tool}@${have}; keep them equal`);
            }
            break;
          }
          if (/(^|[\s=])\/(?!dev\/null)/.test(content)) {
            throw new Error(`${where(i)}: RUN with an absolute path cannot be rehearsed: ${content}`);
          }
          const cwd = hostPath(stageRoot, workdir, APP);
          // The prune stage's turbo is installed globally in the image; here it is the repository's.
          const path = stage === facts.pruneStage ? `${join(root, 'node_modules/.bin')}:${env.PATH ?? ''}` : env.PATH;
          await timed(`RUN ${content} (${where(i)})`, () => run(commandArgv(content), cwd, { ...env, PATH: path }, `RUN ${content}`));
          break;
        }
        default:
          throw new Error(`${where(i)}: the rehearsal does not follow ${i.keyword} in a build stage`);
      }
    }
  }

  const appDir = builtFrom ? stageRoots.get(builtFrom)! : join(options.workDir, 'app');
  // The final stage's other instructions (mkdir of /app/data, USER, EXPOSE) are image metadata
  // and permissions, checked by the Dockerfile tests rather than rehearsed.
  if (!facts.cmd) throw new Error(`${dockerfilePath}: the final stage has no CMD`);
  const [port] = await freePorts(1);
  const runEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    ...facts.env,
    // Loopback on a free port instead of the image's 0.0.0.0:<PORT>; the in-memory bus.
    HOST: '127.0.0.1',
    PORT: String(port),
    ...options.runEnv,
  };
  delete runEnv.KAFKA_BROKERS;
  if (options.oneShot) {
    const code = await timed(`CMD ${facts.cmd.join(' ')} until it exits`, () => exitCode(facts.cmd!, appDir, runEnv));
    return { dockerfile: dockerfilePath, facts, appDir, steps, ready: { status: 0, body: 'one-shot image' }, probes: {}, healthcheckExit: null, stopped: { code, signal: null }, log: [] };
  }
  const started = await timed(`CMD ${facts.cmd.join(' ')} until /health/ready answers 200`, () =>
    startAndProbe(facts.cmd!, appDir, runEnv, `http://127.0.0.1:${port}`, options.readyTimeoutMs ?? 90_000),
  );
  let healthcheckExit: number | null = null;
  const probes: Record<string, number> = {};
  try {
    for (const path of options.probes ?? ['/health/live', '/metrics']) {
      probes[path] = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5_000) }).then(
        async (r) => (await r.arrayBuffer(), r.status),
        () => 0,
      );
    }
    if (facts.healthcheck && !facts.healthcheck.none) {
      healthcheckExit = await timed('HEALTHCHECK command', () => exitCode(facts.healthcheck!.command, appDir, runEnv));
    }
  } finally {
    const stopped = await timed('SIGTERM until exit', () => started.stop());
    started.stopped = stopped;
  }
  return { dockerfile: dockerfilePath, facts, appDir, steps, ready: started.ready, probes, healthcheckExit, stopped: started.stopped, log: started.log };
}

/** The stage the final stage copies /app from (`COPY --from=build /app /app`). */
function stageFeeding(dockerfile: Dockerfile, runtime: DockerStage): DockerStage | null {
  const copy = runtime.instructions.find((i) => i.keyword === 'COPY' && i.flags.from);
  return copy ? (findStage(dockerfile, copy.flags.from!) ?? null) : null;
}

interface Started {
  ready: { status: number; body: unknown };
  log: string[];
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stopped?: { code: number | null; signal: NodeJS.Signals | null };
}

async function startAndProbe(argv: string[], cwd: string, env: NodeJS.ProcessEnv, url: string, timeoutMs: number): Promise<Started> {
  const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  const keep = (chunk: Buffer) => log.push(...chunk.toString().split('\n').filter(Boolean));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('close', (code, signal) => done({ code, signal })),
  );
  let exited = false;
  void closed.then(() => (exited = true));
  const stop = async () => {
    if (!exited) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const result = await closed;
    clearTimeout(timer);
    return result;
  };
  const deadline = Date.now() + timeoutMs;
  let ready: { status: number; body: unknown } = { status: 0, body: 'no answer' };
  while (Date.now() < deadline && !exited) {
    try {
      const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(3_000) });
      const text = await response.text();
      ready = { status: response.status, body: safeJson(text) };
      if (response.status === 200) return { ready, log, stop };
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  const ended = await stop();
  throw new Error(
    `${argv.join(' ')} in ${cwd} did not become ready (last answer ${ready.status} ${JSON.stringify(ready.body)}, exit ${JSON.stringify(ended)}):\n${log.slice(-30).join('\n')}`,
  );
}

function exitCode(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number | null> {
  return new Promise((done) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: 'ignore' });
    child.once('error', () => done(null));
    child.once('close', (code) => done(code));
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
