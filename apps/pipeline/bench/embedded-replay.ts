// The embedded run under a real replay (issue 18, item 6): `npm start`'s pipeline (every
// service in this one process, in-memory bus, DuckDB) takes the first 2,000 PhysioNet/CinC
// 2019 ICU stays through POST /events, as fast as intake accepts them, and the bench
// measures how long until every accepted event has a row in the warehouse, and the
// process's peak resident memory. Targets: every row within 4 minutes, RSS ≤ 1 GiB.
// Writes bench-results/embedded-replay.json. Skipped (exit 0, said so) without the data.
//   npm run bench -w @ehr/pipeline (after npm run build; uses MODEL_PATH or trains the
//   default model first, as npm start does)      BENCH_STAYS=500 for a shorter run
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { physionetStays, readPhysioNet } from '@ehr/cohort';
import type { RawEvent } from '@ehr/features';

const root = resolve(import.meta.dirname, '..', '..', '..');
const data = process.env.PHYSIONET_PATH ?? resolve(root, '..', 'shared', 'data', 'physionet-2019-sepsis');
const stays = Number(process.env.BENCH_STAYS ?? 2_000);
const BATCH = 1_000;
const CONCURRENCY = 4;
const MiB = 1024 * 1024;
const say = (line: string) => process.stdout.write(`embedded replay: ${line}\n`);

if (!existsSync(data)) {
  say(`skipped: no PhysioNet data at ${data} (set PHYSIONET_PATH)`);
  process.exit(0);
}

const table = await readPhysioNet(data);
const count = Math.min(stays, table.stays.length);
// Every stay ends in the past (a week ago at the latest), so no event is refused as future_event.
const start = Date.now() - 90 * 24 * 3_600_000;
const events: RawEvent[] = [];
for (const stay of physionetStays(table, { stays: Array.from({ length: count }, (_, i) => i), start, staggerMinutes: 30 })) events.push(...stay.events);
events.sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
say(`${count} stays, ${events.length} events`);

const dir = mkdtempSync(join(tmpdir(), 'ehr-embedded-replay-'));
// npm start itself, as its own process, so its memory is measured apart from this client's
// (which holds the PhysioNet table and the events).
const ports = { PRODUCER: 39101, FEATURE: 39102, SCORING: 39103, SINK: 39104, ALERTING: 39105, DASHBOARD: 39106 };
const urls: Record<string, string> = Object.fromEntries(Object.entries(ports).map(([s, port]) => [s.toLowerCase(), `http://127.0.0.1:${port}`]));
const child = spawn(process.execPath, [join(root, 'apps', 'pipeline', 'dist', 'main.js')], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
  env: {
    ...process.env,
    KAFKA_BROKERS: '',
    LOG_LEVEL: 'error',
    PRODUCER_SOURCE: 'none',
    DUCKDB_PATH: join(dir, 'warehouse.duckdb'),
    PIPELINE_SPOOL_DIR: join(dir, 'spool'),
    ...Object.fromEntries(Object.entries(ports).map(([s, port]) => [`${s}_PORT`, String(port)])),
  },
});
const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
// Never leave npm start running behind a failed bench.
process.once('exit', () => child.kill('SIGKILL'));
const pipeline = { urls };
for (let ready = false; !ready; ) {
  if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}`);
  const live = await Promise.all(Object.values(urls).map((url) => fetch(`${url}/health/live`).then((r) => r.ok, () => false)));
  ready = live.every(Boolean);
  await new Promise((r) => setTimeout(r, 500));
}
/** Peak resident memory of npm start so far (the kernel's high-water mark). */
const peakRss = () => {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
};

const metric = async (service: string, name: string): Promise<number> => {
  const text = await (await fetch(`${pipeline.urls[service]}/metrics`)).text();
  let total = 0;
  // `name` may carry its labels (`x{table="y"}`): a line matches when it starts with them.
  const prefix = name.endsWith('}') ? name.slice(0, -1) : null;
  for (const line of text.split('\n')) {
    if (prefix ? line.startsWith(prefix) : line.startsWith(`${name}{`) || line.startsWith(`${name} `)) total += Number(line.split(' ').at(-1));
  }
  return total;
};

const started = performance.now();
let next = 0;
let accepted = 0;
async function poster(): Promise<void> {
  while (next < events.length) {
    const batch = events.slice(next, next + BATCH);
    next += BATCH;
    for (;;) {
      const res = await fetch(`${pipeline.urls.producer}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) });
      if (res.status === 202) break;
      // 503/429 (intake pushing back): wait as the Retry-After says, then send the same ids again.
      if (res.status !== 503 && res.status !== 429) throw new Error(`POST /events answered ${res.status}: ${await res.text()}`);
      await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
    }
    accepted += batch.length;
  }
}
await Promise.all(Array.from({ length: CONCURRENCY }, poster));
const postedSeconds = (performance.now() - started) / 1000;
say(`posted ${accepted} events in ${postedSeconds.toFixed(1)} s`);

// Landed: the feature service has seen every event, and the sink has a row for every score.
let landedSeconds = NaN;
const deadline = started + 15 * 60_000;
for (;;) {
  const [seen, scores, rows] = await Promise.all([
    metric('feature', 'ehr_feature_events_total'),
    metric('scoring', 'ehr_scoring_scores_total'),
    metric('sink', 'ehr_sink_rows_landed_total{table="severity_scores"}'),
  ]);
  if (seen >= accepted && rows >= scores && scores > 0) {
    // One more look after a pause: the last vectors may still be on their way to scoring.
    await new Promise((r) => setTimeout(r, 1_000));
    const [scores2, rows2] = await Promise.all([metric('scoring', 'ehr_scoring_scores_total'), metric('sink', 'ehr_sink_rows_landed_total{table="severity_scores"}')]);
    if (scores2 === scores && rows2 === rows) {
      landedSeconds = (performance.now() - started) / 1000 - 1;
      say(`${scores} scores, ${rows} rows landed in ${landedSeconds.toFixed(1)} s; peak RSS ${Math.round(peakRss() / MiB)} MiB`);
      break;
    }
  }
  if (performance.now() > deadline) {
    say(`gave up after 15 min: ${seen} of ${accepted} events seen, ${scores} scores, ${rows} rows`);
    break;
  }
  await new Promise((r) => setTimeout(r, 500));
}
const peakRssMiB = Math.round(peakRss() / MiB);
child.kill('SIGINT'); // Ctrl-C: drains and stops
const exitCode = await exited;

const result = {
  benchmark: 'embedded-replay',
  at: new Date().toISOString(),
  machine: { cpus: cpus().length, memoryMb: Math.round(totalmem() / MiB), node: process.version, loadAverage1m: loadavg()[0] },
  stays: count,
  events: accepted,
  postedSeconds,
  landedSeconds,
  peakRssMiB,
  targets: { landedSeconds: 240, peakRssMiB: 1024 },
  met: landedSeconds <= 240 && peakRssMiB <= 1024,
  stopExitCode: exitCode,
};
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(join(root, 'bench-results', 'embedded-replay.json'), JSON.stringify(result, null, 2) + '\n');
rmSync(dir, { recursive: true, force: true });
say(JSON.stringify(result));
