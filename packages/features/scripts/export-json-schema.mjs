// Writes one JSON Schema document per message into packages/features/schemas/ (docs).
// A unit test fails when the committed documents drift from the code.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MESSAGE_SCHEMAS, toJsonSchemaDocument } from '../dist/index.js';

const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'schemas');
mkdirSync(outDir, { recursive: true });
for (const [name, schema] of Object.entries(MESSAGE_SCHEMAS)) {
  writeFileSync(join(outDir, `${name}.json`), JSON.stringify(toJsonSchemaDocument(name, schema), null, 2) + '\n');
}
process.stdout.write(`wrote ${Object.keys(MESSAGE_SCHEMAS).length} schemas to ${outDir}\n`);
