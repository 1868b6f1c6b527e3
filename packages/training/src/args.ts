// `npm run train -- …` arguments → training (or evaluation) options. The default model for
// npm start is trained from these same arguments, so the command it prints reproduces it.
import { DEFAULT_HORIZON_HOURS } from '@ehr/cohort';
import type { MaxFeatures } from '@ehr/model';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DataSource, LabelSpec } from './dataset.js';
import { DEFAULT_THRESHOLD_RULE, type ThresholdRule } from './labels.js';
import { DEFAULT_SPLIT, parseSplit } from './split.js';
import { resolvePhysioNetArg } from './physionet-path.js';
import type { CrossValidationOptions } from './cross-validate.js';
import type { EvaluateOptions } from './evaluate-model.js';
import { DEFAULT_FOREST, type TrainingOptions } from './train.js';
import { PHYSIONET_FOREST, type PhysioNetTrainingOptions } from './physionet-train.js';
import { PHYSIONET_DEFAULT_ARG } from './physionet-path.js';

export const DEFAULT_MODEL_PATH = 'data/model/severity-model.json';

export const TRAIN_USAGE = `usage: npm run train -- [source] [options]

source (one of; default: a synthetic cohort generated on the fly):
  --data <dir>            cohort CSVs (the producer's / npm run generate's files; outcomes from patients.csv)
  --meds <parquet>        a MEDS file, e.g. the MIMIC-IV demo (outcome: death in hospital or ICU transfer; --label death: death only)
  --physionet [path]      real ICU stays, PhysioNet/CinC 2019 (the packed parquet or a directory of .psv files; default
                          PHYSIONET_PATH, else ../shared/data/physionet-2019-sepsis/): hourly rows, label SepsisLabel,
                          a seeded patient split 60/20/20, report and evaluation.json on the test patients
                          [--stays <n>] a seeded subset of stays; [--balanced <r>] balanced bootstrap, r negatives per positive
                          [--tune] features per split, depth, leaf size and ratio by 3-fold cross-validation on the training patients
  --synthetic             generate a cohort: --patients 300 --hours 120 [--cohort-seed <seed>] [--deterioration-rate 0.3]

labels:
  --label outcome         (default) an outcome within --horizon ${DEFAULT_HORIZON_HOURS} hours after the row's time
  --label death           MEDS only: death in hospital within the horizon (without ICU transfers)
  --label threshold       the original project's rule: severe when any threshold is crossed by the latest values
                          (--hr 120 --rr 25 --temp 39 --spo2 91 --sbp 90 by default; also --temp-low, --lactate, --wbc).
                          The forest only relearns the rule from the same vitals; use it to compare, not to judge.

output:
  --out <file>            model artifact (default ${DEFAULT_MODEL_PATH}; .json.gz to gzip)
  --report <file|none>    HTML report (default report.html beside the model)
  --export ml-random-forest   also write the forest in ml-random-forest 2.1.0 JSON (<out>.ml-random-forest.json,
                          or --export-out <file>); RandomForestClassifier.load() reads it

model:
  --seed <n>              split, forest and (unless --cohort-seed) cohort seed (default 1)
  --trees 200 --depth 12 --max-features sqrt --min-leaf 5 [--workers 2] [--class-weight balanced]
  --calibration isotonic|platt|none     --split 0.6,0.2,0.2 (train,validation,test by patient)
  --bootstrap 200         patient-level bootstrap resamples for the report's intervals (0 = none)

evaluate an existing model instead of training:
  --evaluate <model.json> --report <file>   scores every labelled row of the source against NEWS2

cross-validate instead of training (small data sets, e.g. the MIMIC-IV demo's 100 patients):
  --folds 5 [--report <file>]   k patient folds, each scored by a model that never saw it, pooled
                          against NEWS2 (report only, default cv-report.html beside --out; no model saved)

The same arguments give the same model (content hash); set SOURCE_DATE_EPOCH to fix createdAt too.`;

export type TrainCommand =
  | { mode: 'train'; options: TrainingOptions }
  | { mode: 'evaluate'; options: EvaluateOptions }
  | { mode: 'cross-validate'; options: CrossValidationOptions }
  | { mode: 'train-physionet'; options: PhysioNetTrainingOptions }
  | { mode: 'help' };

function num(name: string, v: string | undefined, fallback: number, check: (n: number) => boolean = Number.isFinite): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !check(n)) throw new Error(`--${name}: '${v}' is not valid`);
  return n;
}
const int = (n: number) => Number.isInteger(n) && n >= 0;
const positiveInt = (n: number) => Number.isInteger(n) && n >= 1;

const OPTIONS = {
  data: { type: 'string' },
  meds: { type: 'string' },
  physionet: { type: 'string' },
  stays: { type: 'string' },
  balanced: { type: 'string' },
  json: { type: 'string' },
  tune: { type: 'boolean' },
  synthetic: { type: 'boolean' },
  patients: { type: 'string' },
  hours: { type: 'string' },
  'cohort-seed': { type: 'string' },
  'deterioration-rate': { type: 'string' },
  label: { type: 'string' },
  horizon: { type: 'string' },
  hr: { type: 'string' },
  rr: { type: 'string' },
  temp: { type: 'string' },
  'temp-low': { type: 'string' },
  spo2: { type: 'string' },
  sbp: { type: 'string' },
  lactate: { type: 'string' },
  wbc: { type: 'string' },
  out: { type: 'string' },
  report: { type: 'string' },
  export: { type: 'string' },
  'export-out': { type: 'string' },
  seed: { type: 'string' },
  trees: { type: 'string' },
  depth: { type: 'string' },
  'max-features': { type: 'string' },
  'min-leaf': { type: 'string' },
  workers: { type: 'string' },
  'class-weight': { type: 'string' },
  calibration: { type: 'string' },
  split: { type: 'string' },
  bootstrap: { type: 'string' },
  evaluate: { type: 'string' },
  folds: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function exportPathFor(out: string): string {
  return out.replace(/\.json(\.gz)?$/, '') + '.ml-random-forest.json';
}

/** `--physionet` may come without a path (the default data): give it the placeholder the parser needs. */
function withPhysioNetDefault(argv: readonly string[]): string[] {
  const out = [...argv];
  const i = out.indexOf('--physionet');
  if (i >= 0 && (i + 1 === out.length || out[i + 1]!.startsWith('--'))) out.splice(i + 1, 0, PHYSIONET_DEFAULT_ARG);
  return out;
}

export function parseTrainArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): TrainCommand {
  const { values: v } = parseArgs({ args: withPhysioNetDefault(argv), options: OPTIONS, strict: true, allowPositionals: false });
  if (v.help) return { mode: 'help' };
  const sources = [v.data !== undefined, v.meds !== undefined, v.synthetic === true, v.physionet !== undefined].filter(Boolean).length;
  if (sources > 1) throw new Error('give one source: --data, --meds, --physionet or --synthetic');
  const seed = num('seed', v.seed, 1, int);
  if (v.physionet !== undefined) return { mode: 'train-physionet', options: physionetOptions(v, seed, env) };
  if (v.stays !== undefined || v.balanced !== undefined || v.json !== undefined || v.tune !== undefined) throw new Error('--stays, --balanced, --tune and --json apply to --physionet');
  let source: DataSource;
  if (v.data !== undefined) source = { kind: 'cohort', dir: v.data };
  else if (v.meds !== undefined) source = { kind: 'meds', file: v.meds };
  else {
    source = {
      kind: 'synthetic',
      seed: num('cohort-seed', v['cohort-seed'], seed, int),
      patients: num('patients', v.patients, 300, positiveInt),
      hours: num('hours', v.hours, 120, (n) => n > 0),
    };
    if (v['deterioration-rate'] !== undefined) source.deteriorationRate = num('deterioration-rate', v['deterioration-rate'], 0.3, (n) => n >= 0 && n <= 1);
  }
  if (source.kind !== 'synthetic' && (v.patients ?? v.hours ?? v['cohort-seed'] ?? v['deterioration-rate']) !== undefined) {
    throw new Error('--patients, --hours, --cohort-seed and --deterioration-rate only apply to a synthetic cohort');
  }

  const labelKind = v.label ?? 'outcome';
  const thresholds: ThresholdRule = {};
  const set = (key: keyof ThresholdRule, flag: keyof typeof v) => {
    const raw = v[flag];
    if (typeof raw === 'string') thresholds[key] = num(flag, raw, 0);
  };
  set('heartRate', 'hr');
  set('respiratoryRate', 'rr');
  set('temperature', 'temp');
  set('temperatureLow', 'temp-low');
  set('spo2', 'spo2');
  set('systolicBp', 'sbp');
  set('lactate', 'lactate');
  set('wbc', 'wbc');
  let label: LabelSpec;
  if (labelKind === 'outcome') {
    if (Object.keys(thresholds).length > 0) throw new Error('vital thresholds (--hr, --temp, …) need --label threshold');
    label = { kind: 'outcome', horizonHours: num('horizon', v.horizon, DEFAULT_HORIZON_HOURS, (n) => n > 0), ...(source.kind === 'meds' ? { icuTransfer: true } : {}) };
  } else if (labelKind === 'death') {
    if (source.kind !== 'meds') throw new Error('--label death applies to --meds');
    label = { kind: 'outcome', horizonHours: num('horizon', v.horizon, DEFAULT_HORIZON_HOURS, (n) => n > 0) };
  } else if (labelKind === 'threshold') {
    if (v.horizon !== undefined) throw new Error('--horizon applies to --label outcome');
    label = { kind: 'threshold', rule: Object.keys(thresholds).length > 0 ? thresholds : { ...DEFAULT_THRESHOLD_RULE } };
  } else throw new Error(`--label must be 'outcome', 'death' or 'threshold', got '${labelKind}'`);

  const bootstrap = num('bootstrap', v.bootstrap, -1, int);
  if (v.evaluate !== undefined) {
    if (!v.report || v.report === 'none') throw new Error('--evaluate needs --report <file>');
    return { mode: 'evaluate', options: { source, label, model: v.evaluate, report: v.report, seed, ...(bootstrap >= 0 ? { bootstrap } : {}) } };
  }

  if (v.folds !== undefined && (v.export !== undefined || v.split !== undefined)) throw new Error('--folds does not combine with --export or --split');

  const mf = v['max-features'] ?? String(DEFAULT_FOREST.maxFeatures);
  const maxFeatures: MaxFeatures = mf === 'sqrt' || mf === 'log2' || mf === 'all' ? mf : num('max-features', mf, 0, (n) => n > 0);
  const cw = v['class-weight'];
  if (cw !== undefined && cw !== 'balanced') throw new Error(`--class-weight must be 'balanced', got '${cw}'`);
  const calibration = v.calibration ?? 'isotonic';
  if (calibration !== 'isotonic' && calibration !== 'platt' && calibration !== 'none') throw new Error(`--calibration must be isotonic, platt or none, got '${calibration}'`);
  if (v.export !== undefined && v.export !== 'ml-random-forest') throw new Error(`--export: only 'ml-random-forest' is supported, got '${v.export}'`);
  const out = v.out ?? DEFAULT_MODEL_PATH;
  const options: TrainingOptions = {
    source,
    label,
    out,
    report: v.report === 'none' ? null : (v.report ?? undefined),
    exportMlRandomForest: v.export ? (v['export-out'] ?? exportPathFor(out)) : null,
    seed,
    split: v.split ? parseSplit(v.split) : DEFAULT_SPLIT,
    forest: {
      nTrees: num('trees', v.trees, DEFAULT_FOREST.nTrees!, positiveInt),
      maxDepth: num('depth', v.depth, DEFAULT_FOREST.maxDepth!, positiveInt),
      maxFeatures,
      minSamplesLeaf: num('min-leaf', v['min-leaf'], DEFAULT_FOREST.minSamplesLeaf!, positiveInt),
      ...(cw ? { classWeight: 'balanced' as const } : {}),
      ...(v.workers !== undefined ? { workers: num('workers', v.workers, 2, int) } : {}),
    },
    calibration,
    ...(bootstrap >= 0 ? { bootstrap } : {}),
  };
  if (options.report === undefined) delete options.report;
  if (v.folds !== undefined) {
    const { report: _report, exportMlRandomForest: _export, split: _split, out: _out, ...rest } = options;
    if (v.report === 'none') throw new Error('--folds writes a report: give --report <file> or leave the default');
    return { mode: 'cross-validate', options: { ...rest, folds: num('folds', v.folds, 5, (n) => Number.isInteger(n) && n >= 3 && n <= 255), report: v.report ?? join(dirname(out), 'cv-report.html') } };
  }
  return { mode: 'train', options };
}

/** Quotes an argument for a POSIX shell when it needs it. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The npm command line for these arguments. */
export function trainCommand(argv: readonly string[], env: Record<string, string> = {}): string {
  const prefix = Object.entries(env).map(([k, val]) => `${k}=${shellQuote(val)} `).join('');
  return `${prefix}npm run train -- ${argv.map(shellQuote).join(' ')}`;
}

type Values = ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; strict: true; allowPositionals: false }>>['values'];

function physionetOptions(v: Values, seed: number, env: Readonly<Record<string, string | undefined>>): PhysioNetTrainingOptions {
  for (const flag of ['label', 'horizon', 'evaluate', 'folds', 'export', 'patients', 'hours', 'cohort-seed', 'deterioration-rate'] as const) {
    if (v[flag] !== undefined) throw new Error(`--${flag} does not apply to --physionet (label: SepsisLabel; evaluate with npm run evaluate)`);
  }
  const path = resolvePhysioNetArg(v.physionet!, env);
  const out = v.out ?? 'data/model/physionet/severity-model.json';
  const mf = v['max-features'] ?? String(PHYSIONET_FOREST.maxFeatures);
  const maxFeatures: MaxFeatures = mf === 'sqrt' || mf === 'log2' || mf === 'all' ? mf : num('max-features', mf, 0, (n) => n > 0);
  const cw = v['class-weight'];
  if (cw !== undefined && cw !== 'balanced' && cw !== 'none') throw new Error(`--class-weight must be 'balanced' or 'none', got '${cw}'`);
  const calibration = v.calibration ?? 'isotonic';
  if (calibration !== 'isotonic' && calibration !== 'platt' && calibration !== 'none') throw new Error(`--calibration must be isotonic, platt or none, got '${calibration}'`);
  const balanced = v.balanced === undefined ? PHYSIONET_FOREST.balancedBootstrap : v.balanced === 'none' ? null : num('balanced', v.balanced, 1, (n) => n > 0);
  const classWeight = cw === undefined ? PHYSIONET_FOREST.classWeight : cw === 'none' ? null : 'balanced';
  const bootstrap = num('bootstrap', v.bootstrap, 200, int);
  return {
    path,
    out,
    ...(v.report !== undefined ? { report: v.report === 'none' ? null : v.report } : {}),
    ...(v.json !== undefined ? { json: v.json === 'none' ? null : v.json } : {}),
    seed,
    ...(v.stays !== undefined ? { stays: num('stays', v.stays, 0, positiveInt) } : {}),
    ...(v.split ? { split: parseSplit(v.split) } : {}),
    forest: {
      nTrees: num('trees', v.trees, PHYSIONET_FOREST.nTrees!, positiveInt),
      maxDepth: num('depth', v.depth, PHYSIONET_FOREST.maxDepth!, positiveInt),
      maxFeatures,
      minSamplesLeaf: num('min-leaf', v['min-leaf'], PHYSIONET_FOREST.minSamplesLeaf!, positiveInt),
      classWeight: classWeight ?? null,
      balancedBootstrap: balanced ?? null,
      ...(v.workers !== undefined ? { workers: num('workers', v.workers, 2, int) } : {}),
    },
    calibration,
    bootstrap,
    ...(v.tune ? { tune: {} } : {}),
  };
}
