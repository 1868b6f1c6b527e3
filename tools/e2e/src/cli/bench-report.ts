#!/usr/bin/env node
// Rewrites bench-results/pipeline.md and its plots from pipeline.json and the raw Kafka
// ceiling (kafka-ceiling.json): the root `npm run bench` calls it once every bench ran, so
// the report holds the ceiling of the same run whichever order turbo ran them in.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@ehr/kafka-local';
import { runStartedAtFromEnv, writePipelineReport } from '../bench/report.js';

const dir = join(repoRoot, 'bench-results');
if (!existsSync(join(dir, 'pipeline.json'))) {
  process.stdout.write('pipeline report: no bench-results/pipeline.json (the pipeline bench did not run)\n');
  process.exit(0);
}
const started = runStartedAtFromEnv();
const { at } = JSON.parse(readFileSync(join(dir, 'pipeline.json'), 'utf8')) as { at: string };
if (started !== undefined && Date.parse(at) < started) {
  process.stdout.write(`pipeline report: the pipeline bench did not run in this run (bench-results/pipeline.json is from ${at}); left as it is\n`);
  process.exit(0);
}
const { markdown, summary } = writePipelineReport(dir, started === undefined ? {} : { runStartedAt: started });
process.stdout.write(`pipeline report: ${markdown}\n${summary}\n`);
