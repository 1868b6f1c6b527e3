#!/usr/bin/env node
// npm run kafka:down: stops the broker kafka:up recorded (by pid: SIGTERM, SIGKILL after
// 30 s) and removes its state and data. Saying so, not failing, when none runs.
import { localHome } from '../paths.js';
import { isKafkaBroker, terminate } from '../process.js';
import { acquireStartLock, readState, removeState, stateFile } from '../state.js';
import { createCommand, main } from '@ehr/cli';
import { say } from './common.js';

const program = createCommand(
  'kafka:down',
  'Stops the broker npm run kafka:up started (SIGTERM, SIGKILL after 30 s) and removes its state and data; says so when none runs.',
).usage('   (npm run kafka:down)');

await main(program, async () => {
  const home = localHome();
  // A kafka:up still starting a broker finishes first, so that broker is stopped too.
  const release = await acquireStartLock(home, {
    onWait: (pid) => say(`kafka:up (pid ${pid}) is starting a broker; waiting for it`),
  });
  try {
    return await down(home);
  } finally {
    release();
  }
});

async function down(home: string): Promise<number> {
  const state = readState(home);
  if (!state) {
    say(`no kafka broker running (no ${stateFile(home)})`);
    return 0;
  }
  if (!isKafkaBroker(state.pid, state.propertiesFile)) {
    removeState(home, state.dataDir);
    say(`no kafka broker running (pid ${state.pid} recorded for ${state.brokers} is gone); state removed`);
    return 0;
  }
  const ended = await terminate(state.pid, 30_000);
  removeState(home, state.dataDir);
  const how = ended === 'killed' ? 'killed after 30 s without a clean shutdown' : 'stopped';
  say(`kafka ${state.brokers} (pid ${state.pid}) ${how}; removed ${state.dataDir}`);
  return 0;
}
