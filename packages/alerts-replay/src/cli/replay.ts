#!/usr/bin/env node
// npm run alerts:replay -- --model <artifact> --data <PhysioNet parquet | .psv directory | MEDS parquet> [--policy <file|name>] [--tune]
// Results on stdout, progress on stderr (a bar on a terminal, JSON lines in a log).
import { createProgress } from '@ehr/cli';
import { replayCommand } from '../replay/replay-command.js';

process.exitCode = await replayCommand(process.argv.slice(2), {
  write: (line) => process.stdout.write(`${line}\n`),
  say: (line) => process.stderr.write(`${line}\n`),
  progress: (options) => createProgress(options),
});
