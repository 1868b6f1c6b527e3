#!/usr/bin/env node
// npm run compose:tokens: the bearer tokens `docker compose up` needs, in the project's .env
// (generated once, kept after; compose reads .env by itself and refuses to start without them).
import { join } from 'node:path';
import { createCommand, main } from '@ehr/cli';
import { findRepoRoot } from '../services.js';
import { ensureComposeTokens, TOKEN_VARIABLES } from '../tokens.js';

const program = createCommand(
  'compose:tokens',
  `Writes the bearer tokens docker compose needs (${TOKEN_VARIABLES.join(', ')}) to the project's .env, once; tokens already there are kept.`,
).usage('   (npm run compose:tokens)');

await main(program, () => {
  const file = join(findRepoRoot(), '.env');
  const { added } = ensureComposeTokens(file);
  const say = (line: string) => void process.stdout.write(`compose:tokens: ${line}\n`);
  say(added.length ? `wrote ${added.join(', ')} to ${file} (mode 600)` : `${file} already holds ${TOKEN_VARIABLES.join(', ')}: kept`);
  say('the dashboard asks for EHR_READ_TOKEN; POST /events and /fhir take EHR_INGEST_TOKEN as a bearer token; EHR_ADMIN_TOKEN opens everything');
  say('rotate: write NEW,OLD as the value (both work), `docker compose up -d`, move clients to NEW, then drop OLD and `up -d` again');
});
