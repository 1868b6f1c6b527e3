// `npm start`: the whole pipeline in one process. Ctrl-C closes intake, drains every stage
// in flow order and keeps what could not land for the next start; a second Ctrl-C stops at
// once, keeping everything not landed on disk and saying how much and where.
import { createCommand, parseOrExit } from '@ehr/cli';
import { allocatorEnv } from '@ehr/runtime';

// Before @ehr/bus loads lz4-napi, whose allocator reads its options once (@ehr/runtime
// allocator.ts): with KAFKA_BROKERS set, this process is every service's Kafka client at once.
Object.assign(process.env, allocatorEnv(process.env));
const { describeCounts, startPipeline } = await import('./pipeline.js');
const { describeSpoolDamage } = await import('./spool.js');

// No flags: the pipeline is configured by the environment. Parsed first, so --help and a
// stray flag never start anything.
const program = createCommand(
  'start',
  'Runs the whole pipeline in one process (producer, feature, scoring, sink, alerting, dashboard) on an in-memory bus, a synthetic ward streaming. Ctrl-C drains and stops; a second Ctrl-C stops at once.',
)
  .usage('   (npm start)')
  .addHelpText(
    'after',
    `
Configured by the environment (README.md, Configuration), e.g.:
  PRODUCER_SOURCE=none|synthetic|meds|csv|physionet   what the producer streams (default synthetic)
  KAFKA_BROKERS=host:port                             a real Kafka instead of the in-memory bus
  PIPELINE_DRAIN_SECONDS=60                           how long Ctrl-C waits for the stages to drain
  PIPELINE_SPOOL_DIR=data/spool                       where records not landed at a stop are kept`,
  );
await parseOrExit(program);

const say = (line: string) => void process.stdout.write(`${line}\n`);
const tty = process.stdout.isTTY;
// On a terminal the summary rewrites one line in place; in a log it is a line every 30 s.
const summary = tty
  ? { intervalMs: 2_000, show: (line: string) => void process.stdout.write(`\r\u001b[2K${line}`), onFirstScore: say }
  : { intervalMs: 30_000, show: say, onFirstScore: say };
// The demo stream is on by default: a synthetic ward of 300 beds at ~50 events/s (see
// @ehr/producer's PRODUCER_* variables; PRODUCER_SOURCE=none turns it off).
const env: Record<string, string | undefined> = { PRODUCER_SOURCE: 'synthetic', ...process.env };
const seconds = (name: string, fallback: number): number => {
  const raw = env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`${name} must be a number of seconds, got ${JSON.stringify(raw)}\n`);
    process.exit(1);
  }
  return n;
};
const drainTimeoutMs = seconds('PIPELINE_DRAIN_SECONDS', 60) * 1000;
const spoolDir = env.PIPELINE_SPOOL_DIR || 'data/spool';

const pipeline = await startPipeline({ env, say, defaultModel: true, summary, spoolDir }).catch((err: unknown) => {
  process.stderr.write(`pipeline failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
// A damaged spool was moved aside so that this start could go on: say what that cost.
for (const damage of pipeline.resumed.damaged ?? []) say(describeSpoolDamage(damage));

let signals = 0;
const stop = (signal: string) => {
  signals += 1;
  if (signals > 1) {
    const kept = pipeline.keepUnlanded();
    if (Number.isNaN(kept.total)) say(`second ${signal}: stopping now; what did not land stays on ${kept.path}`);
    else if (kept.total === 0) say(`second ${signal}: stopping now; every accepted event had landed`);
    else say(`second ${signal}: stopping now; ${kept.total.toLocaleString('en-GB')} accepted records did not land (${describeCounts(kept.counts)}); kept in ${kept.path}, resumed at the next npm start`);
    process.exit(1);
  }
  say(`${tty ? '\n' : ''}${signal}: stopping: intake closed, draining each stage (up to ${drainTimeoutMs / 1000} s; Ctrl-C again to stop at once)…`);
  pipeline.stop({ drainTimeoutMs }).then(
    ({ drained, kept }) => {
      if (drained) say('stopped cleanly: every accepted event landed');
      else say(`stopped; ${kept.total.toLocaleString('en-GB')} records did not land in time (${describeCounts(kept.counts)}); kept in ${kept.path}, resumed at the next npm start`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`stop failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
