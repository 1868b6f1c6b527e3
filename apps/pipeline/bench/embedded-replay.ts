// The embedded run under a real replay (issue 18, item 6): `npm start`'s pipeline (every
// service in this one process, in-memory bus, DuckDB) takes the first 2,000 PhysioNet/CinC
// 2019 ICU stays through POST /events, as fast as intake accepts them, and the bench
// measures how long until every accepted event has a row in the warehouse, and the
// process's peak resident memory. Targets: every row within 4 minutes, RSS ≤ 1 GiB.
// Writes bench-results/embedded-replay.json. Skipped (exit 0, said so) without the data.
//   npm run bench -w @ehr/pipeline (after npm run build; uses MODEL_PATH or trains the
//   default model first, as npm start does)      BENCH_STAYS=500 for a shorter run
//   BENCH_KEEP=1 keeps the warehouse and each service's last metrics; BENCH_NODE_ARGS profiles
//   BENCH_HEAP_SNAPSHOT_AT=90 writes a heap snapshot of npm start 90 s into the replay (into the
//   kept directory; implies BENCH_KEEP); BENCH_PORT_BASE moves the six ports
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
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
// The client is CONCURRENCY posters, each posting the stays of its own share in time order,
// as a real feed posts a patient's observations: a poster sends its next batch only once the
// last one is accepted, so a retried batch is never overtaken. (One time-ordered queue shared
// by the posters let a batch retried after a 503 land behind later ones: 40,240 of 482,572
// events dead-lettered as late_event, the client's doing, not the pipeline's.)
const shares: RawEvent[][] = Array.from({ length: CONCURRENCY }, () => []);
let stayNumber = 0;
for (const stay of physionetStays(table, { stays: Array.from({ length: count }, (_, i) => i), start, staggerMinutes: 30 })) {
  shares[stayNumber++ % CONCURRENCY]!.push(...stay.events);
}
for (const share of shares) share.sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
const total = shares.reduce((n, share) => n + share.length, 0);
say(`${count} stays, ${total} events`);

const dir = mkdtempSync(join(tmpdir(), 'ehr-embedded-replay-'));
// npm start itself, as its own process, so its memory is measured apart from this client's
// (which holds the PhysioNet table and the events).
// BENCH_PORT_BASE moves the six ports, so that two benches on one machine never meet.
const base = Number(process.env.BENCH_PORT_BASE ?? 39_101);
const ports = { PRODUCER: base, FEATURE: base + 1, SCORING: base + 2, SINK: base + 3, ALERTING: base + 4, DASHBOARD: base + 5 };
const urls: Record<string, string> = Object.fromEntries(Object.entries(ports).map(([s, port]) => [s.toLowerCase(), `http://127.0.0.1:${port}`]));
// Something already answering there (another bench's pipeline) would be measured instead of ours.
for (const url of Object.values(urls)) {
  if (await fetch(`${url}/health/live`).then(() => true, () => false)) throw new Error(`${url} already answers: another pipeline is running there (set BENCH_PORT_BASE)`);
}
// BENCH_NODE_ARGS: flags for npm start's node (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, to see what dominates).
const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const snapshotAt = Number(process.env.BENCH_HEAP_SNAPSHOT_AT ?? NaN);
const keep = Boolean(process.env.BENCH_KEEP) || Number.isFinite(snapshotAt);
if (Number.isFinite(snapshotAt)) nodeArgs.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`);
const child = spawn(process.execPath, [...nodeArgs, join(root, 'apps', 'pipeline', 'dist', 'main.js')], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
  env: {
    ...process.env,
    // As the start scripts set it (package.json; apps/pipeline/README.md, "Memory").
    MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
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

const started = performance.now();
if (Number.isFinite(snapshotAt)) setTimeout(() => child.kill('SIGUSR2'), snapshotAt * 1000).unref();
// What npm start's memory is made of over the run, from its own metrics (every service reports
// the one process): resident, V8 heap reserved and used, and memory outside the heap (Buffers).
const memory: { t: number; rssMiB: number; heapTotalMiB: number; heapUsedMiB: number; externalMiB: number }[] = [];
const gauge = (text: string, name: string) => Math.round(Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) / MiB);
const sampler = setInterval(() => {
  fetch(`${urls.feature}/metrics`)
    .then((r) => r.text())
    .then(
      (text) =>
        memory.push({
          t: Math.round((performance.now() - started) / 1000),
          rssMiB: gauge(text, 'process_resident_memory_bytes'),
          heapTotalMiB: gauge(text, 'nodejs_heap_size_total_bytes'),
          heapUsedMiB: gauge(text, 'nodejs_heap_size_used_bytes'),
          externalMiB: gauge(text, 'nodejs_external_memory_bytes'),
        }),
      () => undefined,
    );
}, 2_000);
// Landed: every stage has been through everything on its input topic. Counting what each
// stage emitted against what the next one consumed (or, for the sink, the warehouse offsets
// it committed) is the topics' own arithmetic: a record on a topic is counted once by its
// producer and once by its consumer, whatever happens to it. Comparing scores against rows
// is not: rows can legitimately be fewer (a score the warehouse refuses lands as a dead
// letter; a redelivered or re-posted event scored again has the same score id, and the sink
// keeps one row per id), so that check could wait for ever on a pipeline that had finished.
const series = (text: string, name: string): { labels: string; value: number }[] =>
  text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => ({ labels: line.slice(name.length, line.lastIndexOf(' ')), value: Number(line.split(' ').at(-1)) }));
const sum = (text: string, name: string) => series(text, name).reduce((n, s) => n + s.value, 0);
/** Records the sink has committed on a topic: the warehouse offset is the last one held, per partition. */
const committedBySink = (text: string, topic: string) =>
  series(text, 'ehr_sink_warehouse_offset').filter((s) => s.labels.includes(`topic="${topic}"`)).reduce((n, s) => n + s.value + 1, 0);
/** A service's metrics; a reset connection (keep-alive, loaded machine) is asked again. */
const metricsOf = async (service: string): Promise<string> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await (await fetch(`${urls[service]}/metrics`)).text();
    } catch (err) {
      if (child.exitCode !== null || attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
};
const stageCounts = async () => {
  const [producer, feature, scoring, sink] = await Promise.all(['producer', 'feature', 'scoring', 'sink'].map((s) => metricsOf(s)));
  return {
    published: sum(producer!, 'ehr_producer_events_published_total'),
    featureConsumed: sum(feature!, 'ehr_feature_events_total'),
    vectors: sum(feature!, 'ehr_feature_vectors_total'),
    featureDeadLetters: sum(feature!, 'ehr_feature_dead_letters_total'),
    scoringConsumed: sum(scoring!, 'ehr_scoring_vectors_total'),
    scores: sum(scoring!, 'ehr_scoring_scores_total'),
    scoringDeadLetters: sum(scoring!, 'ehr_scoring_dead_letters_total'),
    sinkCommittedScores: committedBySink(sink!, 'ehr.scores.v1'),
    sinkCommittedDeadLetters: committedBySink(sink!, 'ehr.deadletter.v1'),
    rowsLanded: sum(sink!, 'ehr_sink_rows_landed_total'),
  };
};
type StageCounts = Awaited<ReturnType<typeof stageCounts>>;
const through = (c: StageCounts) =>
  c.published >= accepted &&
  c.featureConsumed >= c.published &&
  c.scoringConsumed >= c.vectors &&
  c.sinkCommittedScores >= c.scores &&
  c.sinkCommittedDeadLetters >= c.featureDeadLetters + c.scoringDeadLetters;
// Where the backlog sits over the run: each stage's own counters every 2 s (a stage behind
// the one before it is the one holding the pipeline back).
const progress: ({ t: number } & StageCounts)[] = [];
const progressSampler = setInterval(() => {
  stageCounts().then(
    (c) => progress.push({ t: Math.round((performance.now() - started) / 1000), ...c }),
    () => undefined,
  );
}, 2_000);
let accepted = 0;
const pushback: Record<string, number> = {};
async function poster(events: readonly RawEvent[]): Promise<void> {
  for (let next = 0; next < events.length; next += BATCH) {
    const batch = events.slice(next, next + BATCH);
    for (;;) {
      // A reset connection (a keep-alive socket the server closed as it was reused, on a loaded
      // machine) may or may not have been accepted: sending the same ids again is safe.
      const res = await fetch(`${pipeline.urls.producer}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) }).catch(
        (err: unknown) => {
          if (child.exitCode !== null) throw err;
          return null;
        },
      );
      if (res === null) {
        pushback.reset = (pushback.reset ?? 0) + 1;
        await new Promise((r) => setTimeout(r, 1_000));
        continue;
      }
      if (res.status === 202) break;
      // 503/429 (intake pushing back): wait as the Retry-After says, then send the same ids again.
      // 408: the body did not arrive in time (a loaded machine); nothing was accepted, so the same.
      if (res.status !== 503 && res.status !== 429 && res.status !== 408) throw new Error(`POST /events answered ${res.status}: ${await res.text()}`);
      pushback[res.status] = (pushback[res.status] ?? 0) + 1;
      await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
    }
    accepted += batch.length;
  }
}
await Promise.all(shares.map(poster));
const postedSeconds = (performance.now() - started) / 1000;
say(`posted ${accepted} events in ${postedSeconds.toFixed(1)} s (pushback: ${JSON.stringify(pushback)})`);

let landedSeconds = NaN;
let counts = await stageCounts();
const deadline = started + 15 * 60_000;
for (;;) {
  counts = await stageCounts();
  if (through(counts)) {
    landedSeconds = (performance.now() - started) / 1000;
    say(`every stage through in ${landedSeconds.toFixed(1)} s; peak RSS ${Math.round(peakRss() / MiB)} MiB; ${JSON.stringify(counts)}`);
    break;
  }
  if (performance.now() > deadline) {
    say(`gave up after 15 min: ${JSON.stringify(counts)}`);
    break;
  }
  await new Promise((r) => setTimeout(r, 500));
}
const peakRssMiB = Math.round(peakRss() / MiB);
clearInterval(sampler);
clearInterval(progressSampler);
/** CPU seconds so far (user + system) of npm start, all its threads or the main one: the stages share that one. */
const cpuSeconds = (stat: string) => {
  const fields = readFileSync(stat, 'utf8').slice(readFileSync(stat, 'utf8').lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ, 100 on Linux)
};
const cpu = { processSeconds: cpuSeconds(`/proc/${child.pid}/stat`), mainThreadSeconds: cpuSeconds(`/proc/${child.pid}/task/${child.pid}/stat`) };
const peakOf = (key: 'rssMiB' | 'heapTotalMiB' | 'heapUsedMiB' | 'externalMiB') => Math.max(...memory.map((m) => m[key]).filter(Number.isFinite));
if (keep) for (const s of Object.keys(urls)) writeFileSync(join(dir, `${s}.metrics`), await metricsOf(s));
child.kill('SIGINT'); // Ctrl-C: drains and stops
const exitCode = await exited;

// What the warehouse holds, read after the stop: the truth the counters are checked against.
const warehouse = await (await DuckDBInstance.create(join(dir, 'warehouse.duckdb'), { access_mode: 'READ_ONLY' })).connect();
const one = async (sql: string) => (await warehouse.runAndReadAll(sql)).getRowObjectsJson()[0] ?? {};
const held = {
  ...(await one('SELECT count(*) AS scoreRows, count(DISTINCT score_id) AS scoreIds, count(DISTINCT feature_event_id) AS vectorIds FROM severity_scores')),
  ...(await one('SELECT count(*) AS deadLetterRows FROM dead_letters')),
  // Offsets of the scores topic with no row: a score whose id had landed already (the same
  // event scored twice), or one the sink never saw (lost). Runs of them are the latter.
  ...(await one(
    'WITH o AS (SELECT src_offset::BIGINT - lag(src_offset::BIGINT) OVER (PARTITION BY src_partition ORDER BY src_offset::BIGINT) - 1 AS missing FROM severity_scores) ' +
      'SELECT coalesce(sum(missing), 0) AS scoreOffsetsWithoutRow, coalesce(max(missing), 0) AS longestRunWithoutRow FROM o WHERE missing > 0',
  )),
  deadLettersByReason: Object.fromEntries(
    (await warehouse.runAndReadAll('SELECT reason, count(*) AS n FROM dead_letters GROUP BY reason ORDER BY reason')).getRows().map(([reason, n]) => [String(reason), Number(n)]),
  ),
};
warehouse.closeSync();

const result = {
  benchmark: 'embedded-replay',
  at: new Date().toISOString(),
  machine: { cpus: cpus().length, memoryMb: Math.round(totalmem() / MiB), node: process.version, loadAverage1m: loadavg()[0] },
  stays: count,
  events: accepted,
  postedSeconds,
  pushback,
  landedSeconds,
  peakRssMiB,
  cpu,
  // Peaks of the samples (every 2 s), and every 10th sample: what the resident memory is made of.
  memory: { peaks: { rssMiB: peakOf('rssMiB'), heapTotalMiB: peakOf('heapTotalMiB'), heapUsedMiB: peakOf('heapUsedMiB'), externalMiB: peakOf('externalMiB') }, samples: memory.filter((_, i) => i % 10 === 0) },
  stages: counts,
  // Every stage's counters every 2 s: where the backlog sat.
  progress,
  warehouse: held,
  targets: { landedSeconds: 240, peakRssMiB: 1024 },
  met: landedSeconds <= 240 && peakRssMiB <= 1024,
  stopExitCode: exitCode,
};
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(join(root, 'bench-results', 'embedded-replay.json'), JSON.stringify(result, null, 2) + '\n');
if (keep) say(`kept ${dir}`);
else rmSync(dir, { recursive: true, force: true });
say(JSON.stringify(result));
