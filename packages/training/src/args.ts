// `npm run train -- …` arguments → training (or evaluation) options. The default model for
// npm start is trained from these same arguments, so the command it prints reproduces it.
// Values are parsed and ranged by the program (train-program.ts); here: which options go
// together (a usage error, exit 2) and each mode's defaults.
import { CommandFailure, type Command } from '@ehr/cli';
import { DEFAULT_HORIZON_HOURS } from '@ehr/cohort';
import { dirname, join } from 'node:path';
import type { CrossValidationOptions } from './cross-validate.js';
import type { DataSource, LabelSpec } from './dataset.js';
import type { EvaluateOptions } from './evaluate-model.js';
import { DEFAULT_THRESHOLD_RULE, type ThresholdRule } from './labels.js';
import { PHYSIONET_DEFAULT_ARG, resolvePhysioNetArg } from './physionet-path.js';
import { PHYSIONET_FOREST, type PhysioNetTrainingOptions } from './physionet-train.js';
import { DEFAULT_SPLIT } from './split.js';
import { DEFAULT_FOREST, type TrainingOptions } from './train.js';
import { DEFAULT_MODEL_PATH, trainProgram, type TrainFlags } from './train-program.js';

export { DEFAULT_MODEL_PATH, trainProgram } from './train-program.js';

export type TrainCommand =
  | { mode: 'train'; options: TrainingOptions }
  | { mode: 'evaluate'; options: EvaluateOptions }
  | { mode: 'cross-validate'; options: CrossValidationOptions }
  | { mode: 'train-physionet'; options: PhysioNetTrainingOptions }
  | { mode: 'help' };

type Env = Readonly<Record<string, string | undefined>>;

const usage = (message: string) => new CommandFailure(message, 2);

export function exportPathFor(out: string): string {
  return out.replace(/\.json(\.gz)?$/, '') + '.ml-random-forest.json';
}

const silent = { out: () => undefined, err: () => undefined };

/**
 * Parses `npm run train` arguments (for npm start's default model and tests; the CLI runs the
 * program itself). Throws the command line's error (CommanderError, or CommandFailure for
 * options that do not go together) with the message the CLI would print.
 */
export function parseTrainArgs(argv: readonly string[], env: Env = {}): TrainCommand {
  const program = trainProgram(silent);
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'commander.helpDisplayed') return { mode: 'help' };
    throw err;
  }
  return trainCommandOf(program, env);
}

/** The command a parsed program asks for. */
export function trainCommandOf(program: Command, env: Env): Exclude<TrainCommand, { mode: 'help' }> {
  const v = program.opts<TrainFlags>();
  const sources = [v.data !== undefined, v.meds !== undefined, v.synthetic === true, v.physionet !== undefined].filter(Boolean).length;
  if (sources > 1) throw usage('give one source: --data, --meds, --physionet or --synthetic');
  const seed = v.seed ?? 1;
  if (v.physionet !== undefined) return { mode: 'train-physionet', options: physionetOptions(v, seed, env) };
  if (v.stays !== undefined || v.balanced !== undefined || v.json !== undefined || v.tune !== undefined) throw usage('--stays, --balanced, --tune and --json apply to --physionet');
  let source: DataSource;
  if (v.data !== undefined) source = { kind: 'cohort', dir: v.data };
  else if (v.meds !== undefined) source = { kind: 'meds', file: v.meds };
  else {
    source = { kind: 'synthetic', seed: v.cohortSeed ?? seed, patients: v.patients ?? 300, hours: v.hours ?? 120 };
    if (v.deteriorationRate !== undefined) source.deteriorationRate = v.deteriorationRate;
  }
  if (source.kind !== 'synthetic' && (v.patients ?? v.hours ?? v.cohortSeed ?? v.deteriorationRate) !== undefined) {
    throw usage('--patients, --hours, --cohort-seed and --deterioration-rate only apply to a synthetic cohort');
  }

  const labelKind = v.label ?? 'outcome';
  const thresholds: ThresholdRule = {};
  const given: [keyof ThresholdRule, number | undefined][] = [
    ['heartRate', v.hr],
    ['respiratoryRate', v.rr],
    ['temperature', v.temp],
    ['temperatureLow', v.tempLow],
    ['spo2', v.spo2],
    ['systolicBp', v.sbp],
    ['lactate', v.lactate],
    ['wbc', v.wbc],
  ];
  for (const [key, value] of given) if (value !== undefined) thresholds[key] = value;
  const horizonHours = v.horizon ?? DEFAULT_HORIZON_HOURS;
  let label: LabelSpec;
  if (labelKind === 'outcome') {
    if (Object.keys(thresholds).length > 0) throw usage('vital thresholds (--hr, --temp, …) need --label threshold');
    label = { kind: 'outcome', horizonHours, ...(source.kind === 'meds' ? { icuTransfer: true } : {}) };
  } else if (labelKind === 'death') {
    if (source.kind !== 'meds') throw usage('--label death applies to --meds');
    label = { kind: 'outcome', horizonHours };
  } else {
    if (v.horizon !== undefined) throw usage('--horizon applies to --label outcome');
    label = { kind: 'threshold', rule: Object.keys(thresholds).length > 0 ? thresholds : { ...DEFAULT_THRESHOLD_RULE } };
  }

  const bootstrap = v.bootstrap;
  if (v.evaluate !== undefined) {
    if (!v.report || v.report === 'none') throw usage('--evaluate needs --report <file>');
    return { mode: 'evaluate', options: { source, label, model: v.evaluate, report: v.report, seed, ...(bootstrap !== undefined ? { bootstrap } : {}) } };
  }

  if (v.folds !== undefined && (v.export !== undefined || v.split !== undefined)) throw usage('--folds does not combine with --export or --split');
  if (v.classWeight === 'none') throw usage("--class-weight none applies to --physionet (here the default is no class weight)");
  const out = v.out ?? DEFAULT_MODEL_PATH;
  const options: TrainingOptions = {
    source,
    label,
    out,
    report: v.report === 'none' ? null : (v.report ?? undefined),
    exportMlRandomForest: v.export ? (v.exportOut ?? exportPathFor(out)) : null,
    seed,
    split: v.split ?? DEFAULT_SPLIT,
    forest: {
      nTrees: v.trees ?? DEFAULT_FOREST.nTrees!,
      maxDepth: v.depth ?? DEFAULT_FOREST.maxDepth!,
      maxFeatures: v.maxFeatures ?? DEFAULT_FOREST.maxFeatures!,
      minSamplesLeaf: v.minLeaf ?? DEFAULT_FOREST.minSamplesLeaf!,
      ...(v.classWeight ? { classWeight: 'balanced' as const } : {}),
      ...(v.workers !== undefined ? { workers: v.workers } : {}),
    },
    calibration: v.calibration ?? 'isotonic',
    ...(bootstrap !== undefined ? { bootstrap } : {}),
  };
  if (options.report === undefined) delete options.report;
  if (v.folds !== undefined) {
    const { report: _report, exportMlRandomForest: _export, split: _split, out: _out, ...rest } = options;
    if (v.report === 'none') throw usage('--folds writes a report: give --report <file> or leave the default');
    return { mode: 'cross-validate', options: { ...rest, folds: v.folds, report: v.report ?? join(dirname(out), 'cv-report.html') } };
  }
  return { mode: 'train', options };
}

function physionetOptions(v: TrainFlags, seed: number, env: Env): PhysioNetTrainingOptions {
  const notHere: [string, unknown][] = [
    ['label', v.label],
    ['horizon', v.horizon],
    ['evaluate', v.evaluate],
    ['folds', v.folds],
    ['export', v.export],
    ['patients', v.patients],
    ['hours', v.hours],
    ['cohort-seed', v.cohortSeed],
    ['deterioration-rate', v.deteriorationRate],
  ];
  for (const [flag, value] of notHere) if (value !== undefined) throw usage(`--${flag} does not apply to --physionet (label: SepsisLabel; evaluate with npm run evaluate)`);
  const path = resolvePhysioNetArg(v.physionet === true || v.physionet === undefined ? PHYSIONET_DEFAULT_ARG : v.physionet, env);
  const balanced = v.balanced === undefined ? PHYSIONET_FOREST.balancedBootstrap : v.balanced === 'none' ? null : v.balanced;
  const classWeight = v.classWeight === undefined ? PHYSIONET_FOREST.classWeight : v.classWeight === 'none' ? null : 'balanced';
  return {
    path,
    out: v.out ?? 'data/model/physionet/severity-model.json',
    ...(v.report !== undefined ? { report: v.report === 'none' ? null : v.report } : {}),
    ...(v.json !== undefined ? { json: v.json === 'none' ? null : v.json } : {}),
    seed,
    ...(v.stays !== undefined ? { stays: v.stays } : {}),
    ...(v.split ? { split: v.split } : {}),
    forest: {
      nTrees: v.trees ?? PHYSIONET_FOREST.nTrees!,
      maxDepth: v.depth ?? PHYSIONET_FOREST.maxDepth!,
      maxFeatures: v.maxFeatures ?? PHYSIONET_FOREST.maxFeatures!,
      minSamplesLeaf: v.minLeaf ?? PHYSIONET_FOREST.minSamplesLeaf!,
      classWeight: classWeight ?? null,
      balancedBootstrap: balanced ?? null,
      ...(v.workers !== undefined ? { workers: v.workers } : {}),
    },
    calibration: v.calibration ?? 'isotonic',
    bootstrap: v.bootstrap ?? 200,
    ...(v.tune ? { tune: {} } : {}),
  };
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
