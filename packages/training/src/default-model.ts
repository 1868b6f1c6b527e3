// The default model for `npm start`: when no artifact exists at MODEL_PATH, train one with a
// fixed seed through exactly the arguments `npm run train` takes, and print the command that
// reproduces it byte for byte. With `realData`, the PhysioNet/CinC 2019 stays beside the
// checkout (or PHYSIONET_PATH) are used when present — a seeded subset sized to train in
// under 45 s on two busy cores — else the synthetic cohort, and the result says which and why.
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FEATURE_SET_VERSION } from '@ehr/features';
import { modelCard, readModelArtifact, type ModelArtifact, type ModelCard } from '@ehr/model';
import { parseTrainArgs, trainCommand } from './args.js';
import { findPhysioNetData } from './physionet-path.js';
import { isReferenceData, PHYSIONET_REFERENCE_DATA } from './physionet-subset.js';
import { trainOnPhysioNet, type PhysioNetTrainingResult } from './physionet-train.js';
import { lineProgress } from './progress.js';
import { trainModel, type TrainingResult } from './train.js';

/**
 * The synthetic default's arguments (without --out). 200 patients over 96 h give 97k feature
 * rows (59k of 120 patients to grow the forest on); with 100 trees of depth 12 the whole
 * run takes about 7 s on an idle 2-core machine. See README.md for the measurements.
 */
export const DEFAULT_MODEL_ARGS: readonly string[] = ['--synthetic', '--seed', '1', '--patients', '200', '--hours', '96', '--trees', '100'];

/**
 * The real-data default (without --physionet's path and --out): 3,000 of the 18,000 stays
 * (seeded, drawn inside the full data's split so its test patients are the full model's), 200 trees, PHYSIONET_FOREST otherwise. Measured (README.md): round 2 (282 features,
 * 28 per split) 16.4 s at load 7, 24.6 s with both cores held by busy loops on top of that;
 * 4,000 stays took 43.6 s busy in round 1, too near 45 s.
 */
export const DEFAULT_PHYSIONET_MODEL_ARGS: readonly string[] = ['--stays', '3000', '--trees', '200', '--seed', '1', '--bootstrap', '50'];

export interface EnsureDefaultModelOptions {
  /** MODEL_PATH. */
  path: string;
  /** One line of terminal output. */
  say: (line: string) => void;
  /** For SOURCE_DATE_EPOCH and PHYSIONET_PATH (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Replaces the default arguments (tests use a smaller cohort); always used as given. */
  args?: readonly string[];
  /** Prefer a model of real patients (PhysioNet) when the data is present (npm start, the scoring container). */
  realData?: boolean;
  /** With realData: the synthetic arguments used when no real data is found (default DEFAULT_MODEL_ARGS; tests use a smaller cohort). */
  fallbackArgs?: readonly string[];
  /** Where relative paths start (default the working directory: the repository root for npm scripts). */
  root?: string;
}

export interface EnsuredModel {
  path: string;
  trained: boolean;
  /** physionet or synthetic when trained now; existing when a file was already there. */
  source: 'physionet' | 'synthetic' | 'existing';
  /** What the model predicts, in words (from the artifact). */
  label: string;
  /** One line for GET /model, the dashboard and the log: which data, and why that one. */
  reason: string;
  /** The served model's card (name, version, data, label, alarm, bands). */
  card: ModelCard | null;
  /** Set when trained. */
  result?: TrainingResult | PhysioNetTrainingResult;
  /** The command that reproduces the trained artifact (same bytes). */
  command?: string;
}

/**
 * Why an artifact is a PhysioNet subset drawn the old way, or null. Before 2026-12-08 a
 * `--stays` subset (the default model) drew its patients with a split of its own, so its test
 * patients, and the stays `npm run evaluate` scores as unseen, mix in patients the shipped
 * choices were made on; those artifacts record no `provenance.subset`. Known by having fewer
 * patients than the reference file's stays, or by the description's "seeded subset".
 */
export function unrecordedSubset(artifact: ModelArtifact): string | null {
  const p = artifact.provenance;
  if (!p || p.source !== 'physionet' || p.subset) return null;
  const fewer = isReferenceData(p.sha256) && p.patients < PHYSIONET_REFERENCE_DATA.stays;
  if (!fewer && !/seeded subset/.test(p.description)) return null;
  // The first default drawn inside the full split (2026-12-08) did not record its draw yet.
  if (/drawn inside the full data's/.test(p.description)) {
    return `is a PhysioNet subset of ${p.patients} stays that does not record its draw (no provenance.subset): its validation patients cannot be redrawn (alerts:replay --split validation, --tune)`;
  }
  return (
    `is a PhysioNet subset of ${p.patients} stays drawn with a split of its own, before subsets were drawn inside the full data's split (no provenance.subset): ` +
    `its test patients, and the stays npm run evaluate scores as unseen, mix in patients the shipped forest settings, feature set and calibration were chosen on`
  );
}

const labelOf = (card: ModelCard | null) => (card?.label ? `${card.label.name}: ${card.label.description}` : 'not recorded in the artifact');

/**
 * Trains and saves the default model unless a file exists at `path`. An existing model built
 * for another feature set is replaced: the scoring service would refuse it, and a pipeline
 * started after a feature-set change would score nothing. So is a PhysioNet subset drawn the
 * old way (unrecordedSubset): the previous default, whose figures mix in patients choices were
 * made on.
 */
export async function ensureDefaultModel(options: EnsureDefaultModelOptions): Promise<EnsuredModel> {
  const { path, say } = options;
  const env = options.env ?? process.env;
  if (existsSync(path)) {
    let card: ModelCard | null = null;
    let stale: string | null = null;
    try {
      const artifact = await readModelArtifact(path);
      card = modelCard(artifact);
      stale = unrecordedSubset(artifact);
    } catch {
      card = null; // the scoring service reports an unreadable artifact itself
    }
    // An old-style subset is replaced only by its like: without the data to retrain on, a
    // synthetic model in its place would be worse than the real one it replaces. Kept, saying why.
    if (card !== null && stale !== null && card.featureSchemaVersion === FEATURE_SET_VERSION && !(options.args === undefined && options.realData === true && findPhysioNetData(env, options.root ?? process.cwd()))) {
      say(`the model at ${path} (${card.version}) ${stale}; kept: no PhysioNet data to retrain it on (PHYSIONET_PATH unset or missing)`);
      stale = null;
    }
    if (card === null || (card.featureSchemaVersion === FEATURE_SET_VERSION && stale === null)) {
      const source = card?.data.source ?? 'unknown';
      return { path, trained: false, source: 'existing', label: labelOf(card), reason: `existing model at ${path} (data: ${card ? card.data.description : source})`, card };
    }
    say(
      card.featureSchemaVersion !== FEATURE_SET_VERSION
        ? `the model at ${path} was built for feature set ${card.featureSchemaVersion}; the feature service serves ${FEATURE_SET_VERSION}: training a new default model in its place`
        : `the model at ${path} (${card.version}) ${stale}: training a new default model in its place`,
    );
  }
  // createdAt is the one field outside the content hash: fix it so the command below gives the same bytes.
  const fromEnv = env.SOURCE_DATE_EPOCH;
  const epoch = fromEnv !== undefined && /^\d+$/.test(fromEnv) ? Number(fromEnv) : Math.floor(Date.now() / 1000);
  const reproduceEnv = { SOURCE_DATE_EPOCH: String(epoch) };
  const root = options.root ?? process.cwd();
  const real = options.args === undefined && options.realData === true ? findPhysioNetData(env, root) : null;
  const started = performance.now();
  if (real) {
    const shown = relative(root, real) || real;
    const argv = ['--physionet', shown, ...DEFAULT_PHYSIONET_MODEL_ARGS, '--out', path];
    const command = parseTrainArgs(['--physionet', real, ...argv.slice(2)], env);
    if (command.mode !== 'train-physionet') throw new Error('default model arguments must train on PhysioNet');
    say(`no model at ${path}: training the default model on real ICU stays (${argv.join(' ')})`);
    const reproduce = trainCommand(argv, reproduceEnv);
    const result = await trainOnPhysioNet({ ...command.options, path: real, createdAt: new Date(epoch * 1000).toISOString(), progress: lineProgress(say, 'default model: '), reproduce });
    const e = result.evaluation;
    const seconds = (performance.now() - started) / 1000;
    say(
      `default model ${result.artifact.version} saved to ${path} in ${seconds.toFixed(1)} s: ${result.artifact.provenance!.description}; ` +
        `test hourly AUROC ${e.hourly.model.auroc.toFixed(3)} vs NEWS2 ${e.hourly.news2.auroc.toFixed(3)} (report ${result.reportPath ?? 'none'})`,
    );
    say(`reproduce it byte for byte (content hash ${result.artifact.contentHash.slice(0, 16)}…): ${reproduce}`);
    const card = modelCard(result.artifact);
    return { path, trained: true, source: 'physionet', label: labelOf(card), reason: `trained on real ICU stays found at ${shown} (${card.data.description})`, card, result, command: reproduce };
  }
  const why =
    options.args !== undefined
      ? 'the arguments given'
      : options.realData === true
        ? `no PhysioNet data (PHYSIONET_PATH unset or missing, nothing at ../shared/data/physionet-2019-sepsis/): synthetic patients instead`
        : 'synthetic patients (real data not requested)';
  const argv = [...(options.args ?? options.fallbackArgs ?? DEFAULT_MODEL_ARGS), '--out', path];
  const command = parseTrainArgs(argv, env);
  if (command.mode !== 'train') throw new Error('default model arguments must train');
  say(`no model at ${path}: training the default model (${argv.join(' ')})`);
  const reproduce = trainCommand(argv, reproduceEnv);
  const result = await trainModel({ ...command.options, createdAt: new Date(epoch * 1000).toISOString(), progress: lineProgress(say, 'default model: '), reproduce });
  const e = result.evaluation;
  say(
    `default model ${result.artifact.version} saved to ${path} in ${((performance.now() - started) / 1000).toFixed(1)} s ` +
      `(test AUROC ${e.model.auroc.toFixed(3)} vs NEWS2 ${e.news2.auroc.toFixed(3)}; report ${result.reportPath ?? 'none'})`,
  );
  say(`reproduce it byte for byte (content hash ${result.artifact.contentHash.slice(0, 16)}…): ${reproduce}`);
  const card = modelCard(result.artifact);
  return { path, trained: true, source: 'synthetic', label: card.label ? labelOf(card) : 'synthetic outcome: death, ICU transfer or the deterioration event within the horizon', reason: `trained on ${why}`, card, result, command: reproduce };
}
