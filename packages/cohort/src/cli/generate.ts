#!/usr/bin/env node
// npm run generate -- --seed <n> --patients <n> --hours <n> --out <dir>
import { resolve } from 'node:path';
import { createCommand, createProgress, decimal, integer, InvalidArgumentError, main } from '@ehr/cli';
import { writeCohort } from '../csv/write.js';
import { cohortMeta, cohortPatients, cohortStream, DEFAULT_START, type CohortOptions } from '../synthetic/cohort.js';
import type { CohortEvent } from '../types.js';

const isoTime = (raw: string): string => {
  if (!/^\d{4}-\d{2}-\d{2}T/.test(raw) || Number.isNaN(Date.parse(raw))) throw new InvalidArgumentError('expected an ISO 8601 time such as 2026-01-05T00:00:00Z.');
  return raw;
};

const program = createCommand('generate', 'Writes a synthetic cohort: patients.csv, vitals.csv, labs.csv, notes.csv, encounters.csv, labels.csv and cohort.json (format: packages/cohort/README.md). The same arguments always give the same bytes.')
  .usage('[options]   (npm run generate -- [options])')
  .option('--seed <n>', 'random seed', integer({ min: 0, max: 4_294_967_295 }), 1)
  .option('--patients <n>', 'patients (stays)', integer({ min: 1, max: 100_000 }), 300)
  .option('--hours <h>', 'simulated hours', decimal({ min: 0, max: 24 * 365, exclusiveMin: true }), 120)
  .option('--out <dir>', 'output folder', 'data/cohort')
  .option('--artefact-rate <p>', 'share of events with a deliberate artefact', decimal({ min: 0, max: 0.2 }), 0.01)
  .option('--horizon <h>', 'label horizon: a severe outcome within this many hours', decimal({ min: 0, max: 168, exclusiveMin: true }), 12)
  .option('--deterioration-rate <p>', 'share of patients whose course deteriorates', decimal({ min: 0, max: 1 }), 0.3)
  .option('--start <time>', 'simulated start (ISO 8601)', isoTime, DEFAULT_START);

/** Counts simulated hours as the stream passes them, for the progress display. */
function* withProgress(events: Iterable<CohortEvent>, startMs: number, hours: number): Generator<CohortEvent> {
  const progress = createProgress({ label: 'generating', total: Math.ceil(hours), unit: 'simulated hours' });
  for (const event of events) {
    progress.update(Math.min(Math.ceil(hours), Math.max(0, Math.floor((Date.parse(event.availableAt) - startMs) / 3_600_000))));
    yield event;
  }
  progress.update(Math.ceil(hours));
  progress.stop();
}

await main(program, async (p) => {
  const o = p.opts<{ seed: number; patients: number; hours: number; out: string; artefactRate: number; horizon: number; deteriorationRate: number; start: string }>();
  const options: CohortOptions = {
    seed: o.seed,
    patients: o.patients,
    hours: o.hours,
    artefactRate: o.artefactRate,
    horizonHours: o.horizon,
    mix: { deteriorationRate: o.deteriorationRate },
    start: o.start,
  };
  const out = resolve(o.out);
  const started = performance.now();
  const events = withProgress(cohortStream(options), Date.parse(o.start), o.hours);
  const result = await writeCohort(out, { meta: cohortMeta(options), patients: cohortPatients(options), events });
  const seconds = (performance.now() - started) / 1000;
  const total = result.rows.vitals + result.rows.labs + result.rows.notes + result.rows.encounters;
  process.stdout.write(
    `wrote ${out}: ${result.rows.patients} patients, ${total} events (${result.rows.vitals} vitals, ${result.rows.labs} labs, ${result.rows.notes} notes, ${result.rows.encounters} encounter events), ${result.rows.labels} labels in ${seconds.toFixed(1)} s (${Math.round(total / seconds)} events/s)\n`,
  );
});
