#!/usr/bin/env node
// npm run bench: the `bench` task of every workspace, one at a time (a bench wants the
// whole machine). turbo builds what each needs first (bench dependsOn build, ^build).
// KAFKA_BROKERS, when set, is passed on: benches then measure that broker. Results land
// in bench-results/ (git-ignored). Extra arguments go to turbo, e.g. `-- --filter=@ehr/kafka-local`.
// The run's start time goes to every bench (BENCH_RUN_STARTED_AT), and once all ran, the
// pipeline report (@ehr/e2e) is written again with the raw Kafka ceiling (@ehr/kafka-local)
// of this same run, whichever order turbo ran the two in.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// The repository's own turbo (what `npx turbo` would find), run directly so that signals
// reach it: `npm exec` does not pass a SIGINT sent to this script on to turbo.
const turboBin = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'turbo.cmd' : 'turbo');
const brokers = process.env.KAFKA_BROKERS?.trim();
process.stdout.write(
  `npm run bench: ${brokers ? `Kafka broker from KAFKA_BROKERS: ${brokers}` : 'each bench starts its own Kafka broker'}\n`,
);

const runStartedAt = String(Date.now());
let interrupted = false;
const turbo = spawn(turboBin, ['run', 'bench', '--concurrency=1', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, BENCH_RUN_STARTED_AT: runStartedAt },
});
// turbo's npm wrapper passes SIGTERM on to turbo, not SIGINT (it expects the terminal's group-wide one).
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    interrupted = true;
    turbo.kill('SIGTERM');
  });
}
turbo.on('exit', (code, signal) => {
  const report = join(root, 'tools', 'e2e', 'dist', 'cli', 'bench-report.js');
  if (!interrupted && existsSync(report)) {
    spawnSync(process.execPath, [report], { cwd: root, stdio: 'inherit', env: { ...process.env, BENCH_RUN_STARTED_AT: runStartedAt } });
  }
  process.exit(code ?? (signal === 'SIGINT' ? 130 : 143));
});
turbo.on('error', (error) => {
  process.stderr.write(`npm run bench: could not run turbo: ${error.message}\n`);
  process.exit(1);
});
