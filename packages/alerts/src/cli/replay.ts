#!/usr/bin/env node
// npm run alerts:replay -- --model <artifact> --data <PhysioNet parquet | .psv directory | MEDS parquet> [--policy <file|name>] [--tune]
import { replayCommand } from '../replay/replay-command.js';

replayCommand(process.argv.slice(2), { write: (line) => process.stdout.write(`${line}\n`), say: (line) => process.stderr.write(`${line}\n`) }).catch((err: unknown) => {
  process.stderr.write(`alerts:replay: ${err instanceof Error ? err.message : String(err)}\n(npm run alerts:replay -- --help for usage)\n`);
  process.exit(1);
});
