#!/usr/bin/env node
// npm run stack: every service as its own process against a real Kafka (KAFKA_BROKERS, else
// the broker `npm run kafka:up` runs, else one started now), one combined readable log.
// Ctrl-C sends each service one SIGTERM, waits, and reports how each exited.
import { spawnSync } from 'node:child_process';
import { join, relative, resolve } from 'node:path';
import { parseOrExit } from '@ehr/cli';
import { isKafkaBroker, localHome, readState } from '@ehr/kafka-local';
import { prepareDefaultModel } from '@ehr/init';
import { describeCounts } from '@ehr/pipeline';
import { kafkaBacklog, type StackBacklog } from '../drain.js';
import { formatLogLine, wantsColors } from '../log-format.js';
import { findRepoRoot, type ServiceName } from '../services.js';
import { startStack, type Env, type ExitReport, type Stack } from '../stack.js';
import { prepareStackTokens } from '../tokens.js';
import { createStackProgram, stackArguments } from './stack-program.js';

const say = (line: string) => void process.stdout.write(`stack: ${line}\n`);

function fail(message: string): never {
  process.stderr.write(`stack: ${message}\n`);
  process.exit(1);
}

/** The broker to use, starting one with kafka:up when none runs. */
function findOrStartBroker(root: string): string {
  const fromEnv = process.env.KAFKA_BROKERS?.trim();
  if (fromEnv) {
    say(`using Kafka from KAFKA_BROKERS: ${fromEnv}`);
    return fromEnv;
  }
  const home = localHome();
  const running = readState(home);
  if (running && isKafkaBroker(running.pid, running.propertiesFile)) {
    say(`using the Kafka broker of npm run kafka:up: ${running.brokers} (pid ${running.pid})`);
    return running.brokers;
  }
  say('no Kafka broker running: starting one (npm run kafka:up)…');
  const up = spawnSync(process.execPath, [join(root, 'tools/kafka-local/dist/cli/kafka-up.js')], { stdio: 'inherit' });
  const started = readState(home);
  if (up.status !== 0 || !started) fail('could not start a Kafka broker (see above); or set KAFKA_BROKERS=host:port');
  say(`the broker keeps running after the stack stops; stop it with: npm run kafka:down`);
  return started.brokers;
}

function describe(report: ExitReport): string {
  if (report.forced) return `killed after the shutdown grace (pid ${report.pid})`;
  if (report.signal) return `ended by ${report.signal}`;
  return report.code === 0 ? 'exited cleanly (code 0)' : `exited with code ${report.code}`;
}

// Arguments first: --help or a bad flag starts neither a broker nor a service.
const { services, ports } = stackArguments(await parseOrExit(createStackProgram()));
const root = findRepoRoot();
const brokers = findOrStartBroker(root);
const colors = wantsColors(process.stdout);
const serviceWidth = Math.max(...services.map((s) => s.length));

let stack: Stack | null = null;
let stopping = false;
let backlog: StackBacklog | null = null;
const startup = new AbortController();
const drainSeconds = Number(process.env.PIPELINE_DRAIN_SECONDS || 60);
const where = `the Kafka topics${process.env.KAFKA_TOPIC_PREFIX ? ` (prefix ${process.env.KAFKA_TOPIC_PREFIX})` : ''} on ${brokers}`;

/** What the stages have not consumed yet, said in one line (null when the broker cannot say in time). */
async function leftBehind(): Promise<string | null> {
  if (!backlog) return null;
  const counts = await Promise.race([backlog.byTopic(services), new Promise<null>((r) => setTimeout(() => r(null), 3_000).unref())]).catch(() => null);
  if (!counts) return null;
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return total === 0 ? 'every accepted event landed' : `${total.toLocaleString('en-GB')} records did not land (${describeCounts(counts)}); they stay on ${where}, and the next npm run stack consumes them`;
}

async function shutdown(reason: string, exitCode: number): Promise<never> {
  stopping = true;
  say(`${reason}: stopping in flow order: the producer first (intake closes), then each stage once it has consumed what is before it (up to ${drainSeconds} s in all; Ctrl-C again to stop at once)…`);
  backlog = await kafkaBacklog({ ...process.env, KAFKA_BROKERS: brokers }).catch(() => null);
  const flow = backlog
    ? { backlog: backlog.backlog, timeoutMs: drainSeconds * 1000, onProgress: (service: ServiceName, left: number) => say(`draining ${service}: ${left.toLocaleString('en-GB')} records to go`) }
    : undefined;
  const reports = stack ? await stack.stop(flow) : [];
  for (const report of reports) say(`${report.service.padEnd(serviceWidth)} ${describe(report)}`);
  const left = await leftBehind();
  if (left) say(left);
  await backlog?.close().catch(() => undefined);
  const clean = reports.every((r) => r.code === 0 && !r.forced);
  process.exit(exitCode !== 0 ? exitCode : clean ? 0 : 1);
}

let signals = 0;
for (const name of ['SIGINT', 'SIGTERM'] as const) {
  process.on(name, () => {
    signals += 1;
    if (signals > 1) {
      say('second signal: killing the services now');
      // The exit hook of startStack SIGKILLs what still runs; Kafka keeps what they had not consumed.
      void leftBehind().then((left) => {
        say(left ?? `what the stages had not consumed stays on ${where}; the next npm run stack consumes it`);
        process.exit(130);
      });
      return;
    }
    if (!stack) {
      startup.abort(new Error(name));
      return;
    }
    void shutdown(name, 0);
  });
}

// Like npm start: a model to score with (trained once, seeded, when none exists) and the
// synthetic ward streaming, unless the environment says otherwise.
if (services.includes('scoring')) {
  await prepareDefaultModel({ ...process.env, MODEL_PATH: resolve(root, process.env.MODEL_PATH ?? 'data/model/severity-model.json') }, say);
}
// Tokens for the doors, fresh for this run, unless the environment brings its own AUTH_*.
const serviceEnv: Partial<Record<ServiceName, Env>> = { producer: { PRODUCER_SOURCE: process.env.PRODUCER_SOURCE ?? 'synthetic' } };
const stackTokens = prepareStackTokens(services, process.env, join(root, 'data'));
if (!stackTokens) say('using the AUTH_* tokens of the environment');
else {
  for (const service of services) serviceEnv[service] = { ...serviceEnv[service], ...stackTokens.serviceEnv[service] };
  say(`new tokens for this run in ${relative(process.cwd(), stackTokens.file) || stackTokens.file} (mode 600): sign in to the dashboard with EHR_READ_TOKEN; POST /events with EHR_INGEST_TOKEN`);
}
say(`starting ${services.join(', ')}…`);
try {
  stack = await startStack({
    brokers,
    services,
    ports,
    serviceEnv,
    signal: startup.signal,
    logSink: ({ service, line }) => void process.stdout.write(`${formatLogLine(service, line, { colors, serviceWidth })}\n`),
    onUnexpectedExit: (report) => {
      if (stopping) return;
      say(`${report.service} ${describe(report)} unexpectedly`);
      void shutdown(`${report.service} stopped`, 1);
    },
  });
} catch (error) {
  if (startup.signal.aborted) {
    say('start-up interrupted; services stopped');
    process.exit(130);
  }
  fail((error as Error).message);
}

for (const service of services) {
  say(service === 'dashboard' ? `dashboard: ${stack.url(service)}/` : `${service} ready: ${stack.url(service)}/health/ready`);
}
say(`Kafka: ${brokers}. Ctrl-C stops the services.`);
