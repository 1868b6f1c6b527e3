// `npm run train`'s command line (@ehr/cli): every option, its value parsed and ranged where
// it is read, so a bad value stops the command before any data is built. Which options go
// together, and the defaults of each mode, are args.ts's.
import { createCommand, decimal, integer, Option, type Command, type CommandOutput } from '@ehr/cli';
import { DEFAULT_HORIZON_HOURS } from '@ehr/cohort';
import type { MaxFeatures } from '@ehr/model';
import { maxFeaturesValue, splitValue } from './cli-values.js';
import type { SplitFractions } from './split.js';

export const DEFAULT_MODEL_PATH = 'data/model/severity-model.json';

const SEED = { min: 0, max: 4_294_967_295 };
const noneOr =
  <T>(parse: (raw: string) => T) =>
  (raw: string): T | 'none' =>
    raw === 'none' ? 'none' : parse(raw);

/** A fresh program (commander keeps the values it parsed, so one a parse). */
export function trainProgram(output?: CommandOutput): Command {
  const program = createCommand(
    'train',
    'Trains the severity model: feature rows from a source through the feature service\'s code, labels, a patient split, the forest (calibrated and banded on the validation patients), the artifact and an HTML report against NEWS2 on the test patients. The same arguments give the same model (content hash); set SOURCE_DATE_EPOCH to fix createdAt too.',
    output,
  ).usage('[source] [options]   (npm run train -- [source] [options])');
  const add = (flags: string, description: string, parse?: (raw: string) => unknown) => program.addOption(parse ? new Option(flags, description).argParser(parse) : new Option(flags, description));
  // Sources (one of; default: a synthetic cohort generated on the fly).
  add('--data <dir>', "source: cohort CSVs (npm run generate's files; outcomes from patients.csv)");
  add('--meds <parquet>', 'source: a MEDS file, e.g. the MIMIC-IV demo (label: death in hospital or ICU transfer; --label death: death only)');
  add('--physionet [path]', 'source: real ICU stays, PhysioNet/CinC 2019 (the packed parquet or a directory of .psv files; default PHYSIONET_PATH, else ../shared/data/physionet-2019-sepsis/): hourly rows, label SepsisLabel, report and evaluation.json on the test patients');
  add('--stays <n>', '--physionet: a seeded subset of this many stays, drawn inside the full data\'s seed-1 split (its test patients are the full model\'s)', integer({ min: 1 }));
  add('--balanced <ratio|none>', '--physionet: balanced bootstrap, this many negatives per positive (default 3)', noneOr(decimal({ min: 0, exclusiveMin: true })));
  add('--tune', '--physionet: features per split, depth, leaf size and ratio by 3-fold cross-validation on the training patients');
  add('--json <file|none>', '--physionet: evaluation JSON (default evaluation.json beside the model)');
  add('--synthetic', 'source: generate a cohort (the default)');
  add('--patients <n>', 'synthetic: patients (default 300)', integer({ min: 1, max: 100_000 }));
  add('--hours <h>', 'synthetic: simulated hours (default 120)', decimal({ min: 0, max: 24 * 365, exclusiveMin: true }));
  add('--cohort-seed <n>', 'synthetic: cohort seed (default --seed)', integer(SEED));
  add('--deterioration-rate <p>', 'synthetic: share of patients whose course deteriorates (default 0.3)', decimal({ min: 0, max: 1 }));
  // Labels.
  program.addOption(new Option('--label <kind>', `outcome (default): an outcome within --horizon after the row's time; death: MEDS, death in hospital only; threshold: the original project's rule (the forest only relearns it: compare, do not judge)`).choices(['outcome', 'death', 'threshold']));
  add('--horizon <h>', `hours ahead for the outcome (default ${DEFAULT_HORIZON_HOURS})`, decimal({ min: 0, exclusiveMin: true, max: 24 * 365 }));
  const thresholds: [string, string][] = [
    ['--hr', 'heart rate (default 120)'],
    ['--rr', 'respiratory rate (default 25)'],
    ['--temp', 'temperature °C (default 39)'],
    ['--temp-low', 'low temperature °C'],
    ['--spo2', 'SpO2 % (default 91)'],
    ['--sbp', 'systolic blood pressure (default 90)'],
    ['--lactate', 'lactate mmol/L'],
    ['--wbc', 'white cells 10⁹/L'],
  ];
  for (const [flag, what] of thresholds) add(`${flag} <value>`, `--label threshold: ${what}`, decimal());
  // Output.
  add('--out <file>', `model artifact (default ${DEFAULT_MODEL_PATH}; .json.gz to gzip)`);
  add('--report <file|none>', 'HTML report (default report.html beside the model)');
  program.addOption(new Option('--export <format>', 'also write the forest as ml-random-forest 2.1.0 JSON (<out>.ml-random-forest.json)').choices(['ml-random-forest']));
  add('--export-out <file>', 'where --export writes');
  // Model.
  add('--seed <n>', 'split, forest and (unless --cohort-seed) cohort seed (default 1)', integer(SEED));
  add('--trees <n>', 'trees (default 200; --physionet 500)', integer({ min: 1 }));
  add('--depth <n>', 'maximum depth (default 12; --physionet 28)', integer({ min: 1 }));
  add('--max-features <n>', 'features per split: sqrt, log2, all, a fraction or a number (default sqrt; --physionet 0.1)', maxFeaturesValue);
  add('--min-leaf <n>', 'minimum rows per leaf (default 5; --physionet 10)', integer({ min: 1 }));
  add('--workers <n>', 'worker threads (default 2)', integer({ min: 0 }));
  program.addOption(new Option('--class-weight <weight>', 'balanced (none: --physionet only)').choices(['balanced', 'none']));
  program.addOption(new Option('--calibration <method>', 'calibration on the validation patients (default isotonic)').choices(['isotonic', 'platt', 'none']));
  add('--split <fractions>', 'train,validation,test shares by patient (default 0.6,0.2,0.2)', splitValue);
  add('--bootstrap <n>', 'patient-level bootstrap resamples for the intervals (default 200; 0 = none)', integer({ min: 0 }));
  // Instead of training.
  add('--evaluate <model>', 'score an existing model on every labelled row of the source against NEWS2 (needs --report)');
  add('--folds <k>', 'cross-validate by patient instead (report only, default cv-report.html beside --out; no model saved)', integer({ min: 3, max: 255 }));
  return program;
}

/** What trainProgram parses (undefined: not given). */
export interface TrainFlags {
  data?: string;
  meds?: string;
  physionet?: string | true;
  stays?: number;
  balanced?: number | 'none';
  tune?: true;
  json?: string;
  synthetic?: true;
  patients?: number;
  hours?: number;
  cohortSeed?: number;
  deteriorationRate?: number;
  label?: 'outcome' | 'death' | 'threshold';
  horizon?: number;
  hr?: number;
  rr?: number;
  temp?: number;
  tempLow?: number;
  spo2?: number;
  sbp?: number;
  lactate?: number;
  wbc?: number;
  out?: string;
  report?: string;
  export?: 'ml-random-forest';
  exportOut?: string;
  seed?: number;
  trees?: number;
  depth?: number;
  maxFeatures?: MaxFeatures;
  minLeaf?: number;
  workers?: number;
  classWeight?: 'balanced' | 'none';
  calibration?: 'isotonic' | 'platt' | 'none';
  split?: SplitFractions;
  bootstrap?: number;
  evaluate?: string;
  folds?: number;
}
