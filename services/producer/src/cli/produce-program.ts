// The arguments of `npm run produce`, parsed and ranged before anything is opened (the
// ranges are those of the service's PRODUCER_* variables).
import { MEDS_DEMO_RELATIVE_PATH, PHYSIONET_RELATIVE_PATH } from '@ehr/cohort';
import { createCommand, decimal, decimalOr, integer, InvalidArgumentError, Option, type Command, type CommandOutput } from '@ehr/cli';
import type { SourceKind } from '../sources.js';

export interface ProduceOptions {
  source: SourceKind;
  file?: string;
  speed?: number | 'max';
  rate?: number;
  seed?: number;
  patients?: number;
  hours?: number;
  artefactRate?: number;
  /** false with --no-shift. */
  shift: boolean;
  limit?: number;
  to?: string;
}

const speedNumber = decimalOr(['max'] as const, { min: 0, exclusiveMin: true });
/** `max`, `60`, `x60` or `60x`. */
const speed = (raw: string): number | 'max' => speedNumber(raw.trim() === 'max' ? 'max' : raw.trim().replace(/^x|x$/gi, ''));

/** `kafka` or the base URL of a running producer. */
const target = (raw: string): string => {
  if (raw === 'kafka') return raw;
  if (URL.canParse(raw) && /^https?:$/.test(new URL(raw).protocol)) return raw;
  throw new InvalidArgumentError("expected 'kafka' or an http(s) URL such as http://127.0.0.1:3001.");
};

const HELP_AFTER = `
Sources:
  synthetic  a ward with continuous admissions and discharges (default 50 events/s, endless unless --hours/--limit)
  meds       a MEDS parquet file (default: the MIMIC-IV demo at ${MEDS_DEMO_RELATIVE_PATH}), ×60, times moved so the replay ends now
  csv        a cohort directory written by npm run generate (default data/cohort), ×60, times moved so the replay ends now
  physionet  PhysioNet/CinC 2019 ICU stays (default PHYSIONET_PATH, else ${PHYSIONET_RELATIVE_PATH}; or a directory
             of .psv files): the first --patients stays (default 100), one starting every 30 min, ×60, times moved so the replay ends now
Target: Kafka when KAFKA_BROKERS is set, else the POST /events of a running producer (npm start),
with the token in EHR_INGEST_TOKEN (else the first of AUTH_INGEST_TOKENS).
Progress: a bar with rate and ETA on a terminal when the number of events is known, JSON logs otherwise.`;

export function createProduceProgram(output?: CommandOutput): Command {
  return createCommand('produce', 'Streams clinical events to the raw topic of Kafka (KAFKA_BROKERS) or to a running producer.', output)
    .usage('[options]   (npm run produce -- [options])')
    .addOption(new Option('--source <kind>', 'what to stream').choices(['synthetic', 'meds', 'csv', 'physionet']).default('synthetic'))
    .option('--file <path>', 'the MEDS parquet (meds), cohort directory (csv) or PhysioNet data (physionet)')
    .option('--speed <x>', "×N of event time (60, x60) or 'max'", speed)
    .option('--rate <events/s>', 'events per second', decimal({ min: 0, max: 1_000_000, exclusiveMin: true }))
    .option('--seed <n>', 'seed of the synthetic ward (default 1)', integer({ min: 0, max: 4_294_967_295 }))
    .option('--patients <n>', 'beds of the synthetic ward (default 300), or PhysioNet stays (default 100)', integer({ min: 1, max: 100_000 }))
    .option('--hours <h>', 'simulated hours of the synthetic ward (default: endless)', decimal({ min: 0, max: 24 * 365, exclusiveMin: true }))
    .option('--artefact-rate <p>', 'share of synthetic events with a deliberate artefact (default 0.01)', decimal({ min: 0, max: 0.2 }))
    .option('--no-shift', 'keep the recorded times of a replay (not moved to end now)')
    .option('--limit <events>', 'stop after this many events', integer({ min: 0 }))
    .option('--to <target>', "'kafka' or a producer's base URL, e.g. http://127.0.0.1:3001", target)
    .addHelpText('after', HELP_AFTER);
}
