#!/usr/bin/env node
// Copies a whole Kafka broker (and an slf4j binding) from Maven Central into
// <repo>/.kafka/jars. Plain Node on purpose: it runs before anything is built.
//   node tools/kafka-local/scripts/fetch-jars.mjs [--out <dir>] [--force] [--quiet]
// Idempotent: a marker file records the version and the pom it came from; when it
// matches, nothing is fetched (and neither java nor maven is needed).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(packageDir, '../..');
const pomPath = join(packageDir, 'pom.xml');
const MARKER = '.fetched.json';
const FALLBACK_VERSION = '3.9.1';

// The repository's command-line convention (@ehr/cli), by hand: this runs before the build.
const USAGE = `Usage: kafka:jars [options]   (npm run kafka:jars -- [options])

Copies the Kafka broker's jars from Maven Central into .kafka/jars (needs Java 17+ and Maven).
Does nothing when the jars there match tools/kafka-local/pom.xml.

Options:
  --out <dir>  where the jars go (default: .kafka/jars)
  --force      fetch again even when the jars are current
  --quiet      say nothing when there is nothing to do
  -h, --help   print this usage and exit
`;
let args;
try {
  ({ values: args } = parseArgs({
    options: {
      out: { type: 'string' },
      force: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false }, // say nothing when there is nothing to do
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (error) {
  process.stderr.write(`error: ${error.message}\n\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const outDir = resolve(args.out ?? join(repoRoot, '.kafka', 'jars'));

const say = (line) => process.stderr.write(`kafka:jars: ${line}\n`);
const fail = (line) => {
  process.stderr.write(`kafka:jars: ${line}\n`);
  process.exit(1);
};

const pom = readFileSync(pomPath, 'utf8');
const pomSha = createHash('sha256').update(pom).digest('hex').slice(0, 16);
const pinned = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1];
if (!pinned) fail(`no <kafka.version> in ${pomPath}`);

const markerPath = join(outDir, MARKER);
if (!args.force && existsSync(markerPath)) {
  try {
    const marker = JSON.parse(readFileSync(markerPath, 'utf8'));
    if (marker.pomSha === pomSha) {
      if (!args.quiet) say(`Kafka ${marker.kafkaVersion} jars already in ${outDir} (${marker.jars} jars); nothing to do`);
      process.exit(0);
    }
    say(`pom.xml changed since the last fetch (${marker.kafkaVersion}); fetching again`);
  } catch {
    say(`unreadable ${markerPath}; fetching again`);
  }
}

// Which tools are missing is the most common failure on a fresh machine: name them.
const javaBin = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
const java = spawnSync(javaBin, ['-version'], { encoding: 'utf8' });
if (java.error || java.status !== 0) {
  fail(
    `cannot run '${javaBin}' (${java.error?.message ?? `exit ${java.status}`}).\n` +
      '  Install a Java 17+ runtime, e.g. `apt-get install openjdk-17-jre-headless`, or set JAVA_HOME.',
  );
}
const mvnBin = process.platform === 'win32' ? 'mvn.cmd' : 'mvn';
const mvn = spawnSync(mvnBin, ['-v'], { encoding: 'utf8' });
if (mvn.error || mvn.status !== 0) {
  fail(
    `cannot run '${mvnBin}' (${mvn.error?.message ?? `exit ${mvn.status}`}).\n` +
      '  Install Apache Maven 3.6+, e.g. `apt-get install maven` (it downloads the Kafka jars from Maven Central).',
  );
}

// Copy into a scratch folder and rename it into place, so an interrupted or concurrent
// fetch never leaves a half-filled jars folder behind a valid-looking marker.
mkdirSync(dirname(outDir), { recursive: true });
const started = Date.now();
let fetched;
for (const version of [pinned, FALLBACK_VERSION]) {
  if (fetched) break;
  if (version === FALLBACK_VERSION && pinned === FALLBACK_VERSION) break;
  const scratch = `${outDir}.tmp-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  say(`fetching org.apache.kafka:kafka_2.13:${version} with maven into ${outDir} ...`);
  const run = spawnSync(
    mvnBin,
    [
      '-q', '-B', '-f', pomPath,
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-Dkafka.version=${version}`,
      `-DoutputDirectory=${scratch}`,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (run.status === 0) {
    fetched = { version, scratch };
  } else {
    rmSync(scratch, { recursive: true, force: true });
    const output = `${run.stdout ?? ''}${run.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    say(`maven failed for ${version} (exit ${run.status}):\n${output}`);
  }
}
if (!fetched) fail('could not fetch the Kafka jars from Maven Central (see maven output above)');

const jars = readdirSync(fetched.scratch).filter((f) => f.endsWith('.jar'));
writeFileSync(
  join(fetched.scratch, MARKER),
  `${JSON.stringify({ kafkaVersion: fetched.version, pomSha, jars: jars.length, fetchedAt: new Date().toISOString() }, null, 2)}\n`,
);
rmSync(outDir, { recursive: true, force: true });
try {
  renameSync(fetched.scratch, outDir);
} catch (error) {
  // A concurrent fetch got there first: its result is as good as ours.
  rmSync(fetched.scratch, { recursive: true, force: true });
  if (!existsSync(markerPath)) throw error;
}
say(`Kafka ${fetched.version}: ${jars.length} jars in ${outDir} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
