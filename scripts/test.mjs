#!/usr/bin/env node
// npm test: every workspace's typecheck, lint, unit tests and real-broker tests against
// ONE Kafka broker for the whole run (or $KAFKA_BROKERS when set). Extra arguments go to
// turbo, e.g. `npm test -- --filter=@ehr/bus`. Exits with turbo's exit code.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// The repository's own turbo (what `npx turbo` would find), run directly so that signals
// reach it: `npm exec` does not pass a SIGINT sent to this script on to turbo.
const turboBin = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'turbo.cmd' : 'turbo');
// --continue: one failing workspace must not hide the others' results (the exit code still fails).
const turboArgs = ['run', 'typecheck', 'lint', 'lint:repo', 'test', 'test:kafka', '--concurrency=2', '--continue', ...process.argv.slice(2)];
const signalNumber = { SIGINT: 2, SIGTERM: 15 };
const say = (line) => process.stdout.write(`npm test: ${line}\n`);

let broker;
let turbo;
let interrupted; // the first signal received: an interrupted run never reports success
let finishing = false;

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    interrupted ??= signal;
    // First signal while turbo runs: ask it to stop its tasks (its npm wrapper passes
    // SIGTERM on, not SIGINT); turbo's exit then stops the broker. Otherwise stop now.
    if (turbo && turbo.exitCode === null && !turbo.killed) turbo.kill('SIGTERM');
    else if (turbo || broker) void finish(1);
    // still starting: checked once the broker is up
  });
}

async function finish(code) {
  if (finishing) return;
  finishing = true;
  const exitCode = interrupted ? 128 + signalNumber[interrupted] : code;
  if (broker) {
    if (exitCode !== 0) {
      // The run's broker log goes with its temp folder; keep a copy when something failed.
      const kept = join(root, '.kafka', 'test-broker.log');
      mkdirSync(dirname(kept), { recursive: true });
      copyFileSync(broker.logFile, kept);
      say(`broker log kept at ${kept}`);
    }
    await broker.stop();
    say(`stopped Kafka broker ${broker.brokers}`);
  }
  process.exit(exitCode);
}

function runOrExit(command, args) {
  const run = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) process.exit(run.status ?? 1);
}

let brokers = process.env.KAFKA_BROKERS?.trim();
if (brokers) {
  say(`using the Kafka broker from KAFKA_BROKERS: ${brokers}`);
} else {
  // Only what starting the broker needs; turbo builds the rest in dependency order.
  runOrExit(turboBin, ['run', 'build', '--filter=@ehr/kafka-local', '--output-logs=errors-only']);
  runOrExit(process.execPath, [join(root, 'tools/kafka-local/scripts/fetch-jars.mjs'), '--quiet']);
  const { startKafkaBroker } = await import(pathToFileURL(join(root, 'tools/kafka-local/dist/index.js')).href);
  try {
    broker = await startKafkaBroker();
  } catch (error) {
    process.stderr.write(`npm test: could not start a Kafka broker: ${error.message}\n`);
    process.exit(1);
  }
  brokers = broker.brokers;
  const seconds = ((broker.timings.formatMs + broker.timings.readyMs) / 1000).toFixed(1);
  say(`started Kafka ${broker.kafkaVersion} broker ${brokers} for this run (pid ${broker.pid}, ready in ${seconds} s)`);
  if (interrupted) await finish(1);
}

turbo = spawn(turboBin, turboArgs, { cwd: root, stdio: 'inherit', env: { ...process.env, KAFKA_BROKERS: brokers } });
turbo.on('exit', (code) => void finish(code ?? 1));
turbo.on('error', (error) => {
  process.stderr.write(`npm test: could not run turbo: ${error.message}\n`);
  void finish(1);
});
