// `npm run docs:config`: rewrites the configuration table of the root README.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withConfigReference } from '../config-reference.js';

const readme = join(import.meta.dirname, '..', '..', '..', '..', 'README.md');
writeFileSync(readme, withConfigReference(readFileSync(readme, 'utf8')));
process.stdout.write(`updated the configuration reference in ${readme}\n`);
