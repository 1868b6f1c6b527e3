#!/usr/bin/env node
// npm run kafka:up: a detached broker on 127.0.0.1:$KAFKA_PORT (9092), recorded in
// $KAFKA_LOCAL_HOME/broker.json (<repo>/.kafka). Running it again while one runs says so.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startKafkaBroker } from '../broker.js';
import { ensureJars } from '../jars.js';
import { localHome } from '../paths.js';
import { isPortFree, LOOPBACK } from '../ports.js';
import { isKafkaBroker } from '../process.js';
import { acquireStartLock, readState, removeState, writeState } from '../state.js';
import { createCommand, main } from '@ehr/cli';
import { parsePort, say } from './common.js';

const program = createCommand(
  'kafka:up',
  'Starts a single-node Apache Kafka (KRaft) on 127.0.0.1:$KAFKA_PORT (default 9092) from the Maven Central jars, detached, and prints `export KAFKA_BROKERS=…`. Says so when one already runs. Stop it with npm run kafka:down. Environment: KAFKA_PORT, KAFKA_CONTROLLER_PORT, KAFKA_LOCAL_HOME.',
).usage('   (npm run kafka:up)');

await main(program, async () => {
  const home = localHome();
  const release = await acquireStartLock(home, {
    onWait: (pid) => say(`another kafka:up (pid ${pid}) is starting a broker; waiting for it`),
  });
  try {
    return await up(home);
  } finally {
    release();
  }
});

async function up(home: string): Promise<number> {
  const running = readState(home);
  if (running) {
    if (isKafkaBroker(running.pid, running.propertiesFile)) {
      say(`kafka already running: ${running.brokers} (pid ${running.pid}, log ${running.logFile}); stop it with npm run kafka:down`);
      say(`export KAFKA_BROKERS=${running.brokers}`);
      return 0;
    }
    say(`the broker recorded in ${home} (pid ${running.pid}) is gone; clearing its state`);
    removeState(home, running.dataDir);
  }

  const port = parsePort('KAFKA_PORT', 9092);
  const controllerPort = process.env.KAFKA_CONTROLLER_PORT ? parsePort('KAFKA_CONTROLLER_PORT', 0) : undefined;
  if (!(await isPortFree(port))) {
    throw new Error(`${LOOPBACK}:${port} is already in use by something kafka:up did not start; stop it or set KAFKA_PORT`);
  }
  ensureJars();
  const dataDir = join(home, 'data');
  rmSync(dataDir, { recursive: true, force: true }); // leftovers of a broker that died without kafka:down
  const broker = await startKafkaBroker({
    port,
    ...(controllerPort ? { controllerPort } : {}),
    dataDir,
    logFile: join(home, 'broker.log'),
    detached: true,
  });
  writeState(home, {
    pid: broker.pid,
    brokers: broker.brokers,
    port: broker.port,
    controllerPort: broker.controllerPort,
    dataDir: broker.dataDir,
    propertiesFile: broker.propertiesFile,
    logFile: broker.logFile,
    kafkaVersion: broker.kafkaVersion,
    startedAt: new Date().toISOString(),
  });
  const seconds = ((broker.timings.formatMs + broker.timings.readyMs) / 1000).toFixed(1);
  say(`kafka ready: ${broker.brokers} (Kafka ${broker.kafkaVersion}, pid ${broker.pid}, ${seconds} s; log ${broker.logFile})`);
  say(`export KAFKA_BROKERS=${broker.brokers}`);
  return 0;
}
