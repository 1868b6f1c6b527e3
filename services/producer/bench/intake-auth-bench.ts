// What authentication costs intake: requests per second that POST /events serves with
// bearer tokens (three scopes configured, every request checked against all of them) and
// without (open on loopback). The producer runs as its own process (dist/main.js, the
// in-memory bus) so that autocannon, in this one, does not share its event loop.
//   npm run bench:auth -w services/producer
// BENCH_SECONDS (10 per run), BENCH_CONNECTIONS (16), BENCH_BATCH (events per request, 1),
// BENCH_ROUNDS (3, alternating open and authenticated). Results: bench-results/producer-intake-auth.json.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..', '..', '..'); // dist/.bench/bench → repository root
const env = process.env;
const seconds = Number(env.BENCH_SECONDS ?? 10);
const connections = Number(env.BENCH_CONNECTIONS ?? 16);
const batch = Number(env.BENCH_BATCH ?? 1);
const rounds = Number(env.BENCH_ROUNDS ?? 3);
const say = (line: string) => void process.stdout.write(`${line}\n`);

const TOKENS = {
  AUTH_INGEST_TOKENS: `${'i'.repeat(43)},${'j'.repeat(43)}`,
  AUTH_READ_TOKENS: 'r'.repeat(43),
  AUTH_ADMIN_TOKENS: 'a'.repeat(43),
};
const body = JSON.stringify(
  Array.from({ length: batch }, (_, i) => ({
    schema: 'vital_sign',
    schemaVersion: 1,
    eventId: `bench-${i}`,
    patientId: `bench-p${i % 50}`,
    encounterId: null,
    occurredAt: '2026-01-01T10:00:00Z',
    producedAt: '2026-01-01T10:00:00Z',
    source: 'api',
    payload: { kind: 'heart_rate', value: 70 + (i % 30), unit: '/min' },
  })),
);

interface Run {
  mode: 'open' | 'bearer';
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  loadBefore: number;
}

const freePort = () =>
  new Promise<number>((done, fail) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
    server.on('error', fail);
  });

async function measure(mode: Run['mode']): Promise<Run> {
  const port = await freePort();
  const main = join(root, 'services', 'producer', 'dist', 'main.js');
  const child = spawn(process.execPath, [main], {
    env: { PATH: env.PATH, PORT: String(port), LOG_LEVEL: 'error', PRODUCER_MAX_CONCURRENT_REQUESTS: String(connections * 2), ...(mode === 'bearer' ? TOKENS : {}) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let ready = false; !ready; ) {
    ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.ok, () => false);
    if (!ready) await new Promise((r) => setTimeout(r, 100));
  }
  const loadBefore = loadavg()[0]!;
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(mode === 'bearer' ? { authorization: `Bearer ${'j'.repeat(43)}` } : {}) };
  const target = { url: `http://127.0.0.1:${port}/events`, method: 'POST' as const, headers, body, connections };
  await autocannon({ ...target, duration: 2 }); // warm-up: JIT, connection pools
  const result = await autocannon({ ...target, duration: seconds });
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  await exited;
  return { mode, requestsPerSecond: Math.round(result.requests.average), p50Ms: result.latency.p50, p99Ms: result.latency.p99, non2xx: result.non2xx, loadBefore: Math.round(loadBefore * 10) / 10 };
}

async function main() {
  const runs: Run[] = [];
  // Alternating runs, so that a change in the machine's load hits both modes alike.
  for (let round = 0; round < rounds; round++) {
    for (const mode of ['open', 'bearer'] as const) {
      const run = await measure(mode);
      runs.push(run);
      say(`${mode.padEnd(6)} ${run.requestsPerSecond} req/s  p50 ${run.p50Ms} ms  p99 ${run.p99Ms} ms  (non-2xx ${run.non2xx}, load ${run.loadBefore})`);
    }
  }
  const median = (mode: Run['mode']) => {
    const values = runs.filter((r) => r.mode === mode).map((r) => r.requestsPerSecond).sort((a, b) => a - b);
    return values[Math.floor(values.length / 2)]!;
  };
  const open = median('open');
  const bearer = median('bearer');
  const summary = {
    open,
    bearer,
    ratio: Math.round((bearer / open) * 1000) / 1000,
    seconds,
    connections,
    batch,
    cpus: cpus().length,
    loadAverage: loadavg().map((l) => Math.round(l * 10) / 10),
    node: process.version,
    runs,
  };
  say(`median: open ${open} req/s, with bearer tokens ${bearer} req/s (${(summary.ratio * 100).toFixed(1)} %)`);
  mkdirSync(join(root, 'bench-results'), { recursive: true });
  writeFileSync(join(root, 'bench-results', 'producer-intake-auth.json'), `${JSON.stringify(summary, null, 2)}\n`);
}

await main();
