// `npm run docs:config`: rewrites the configuration table of the root README from the
// services' own env schemas; `--check` only says whether it is current.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandFailure, createCommand, main } from '@ehr/cli';
import { withConfigReference } from '../config-reference.js';

const program = createCommand('docs:config', "Rewrites the root README's configuration table from every service's env schema.")
  .usage('[options]   (npm run docs:config -- [options])')
  .option('--check', 'write nothing; exit 1 when the table is not current');

await main(program, (p) => {
  const readme = join(import.meta.dirname, '..', '..', '..', '..', 'README.md');
  const current = readFileSync(readme, 'utf8');
  const updated = withConfigReference(current);
  if (p.opts<{ check?: boolean }>().check) {
    if (updated !== current) throw new CommandFailure(`the configuration table in ${readme} is not current: run npm run docs:config`);
    process.stdout.write(`the configuration table in ${readme} is current\n`);
    return;
  }
  writeFileSync(readme, updated);
  process.stdout.write(`updated the configuration reference in ${readme}\n`);
});
