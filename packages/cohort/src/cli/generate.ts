#!/usr/bin/env node
// npm run generate -- --seed <n> --patients <n> --hours <n> --out <dir>
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cohortMeta, cohortPatients, cohortStream, type CohortOptions } from '../synthetic/cohort.js';
import { writeCohort } from '../csv/write.js';

const USAGE = `usage: npm run generate -- [--seed 1] [--patients 300] [--hours 120] [--out data/cohort]
                            [--artefact-rate 0.01] [--horizon 12] [--deterioration-rate 0.3] [--start 2026-01-05T00:00:00Z]
Writes patients.csv, vitals.csv, labs.csv, notes.csv, encounters.csv, labels.csv and cohort.json
(format: packages/cohort/README.md). The same arguments always give the same bytes.`;

function number(name: string, value: string | undefined, fallback: number, integer = false): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'}, got ${JSON.stringify(value)}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      patients: { type: 'string' },
      hours: { type: 'string' },
      out: { type: 'string' },
      'artefact-rate': { type: 'string' },
      horizon: { type: 'string' },
      'deterioration-rate': { type: 'string' },
      start: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const options: CohortOptions = {
    seed: number('seed', values.seed, 1, true),
    patients: number('patients', values.patients, 300, true),
    hours: number('hours', values.hours, 120),
    artefactRate: number('artefact-rate', values['artefact-rate'], 0.01),
    horizonHours: number('horizon', values.horizon, 12),
    mix: { deteriorationRate: number('deterioration-rate', values['deterioration-rate'], 0.3) },
    ...(values.start ? { start: values.start } : {}),
  };
  const out = resolve(values.out ?? 'data/cohort');
  const started = performance.now();
  const result = await writeCohort(out, { meta: cohortMeta(options), patients: cohortPatients(options), events: cohortStream(options) });
  const seconds = (performance.now() - started) / 1000;
  const events = result.rows.vitals + result.rows.labs + result.rows.notes + result.rows.encounters;
  process.stdout.write(
    `wrote ${out}: ${result.rows.patients} patients, ${events} events (${result.rows.vitals} vitals, ${result.rows.labs} labs, ${result.rows.notes} notes, ${result.rows.encounters} encounter events), ${result.rows.labels} labels in ${seconds.toFixed(1)} s (${Math.round(events / seconds)} events/s)\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`generate: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
  process.exit(1);
});
