// The default model for `npm start`: when no artifact exists at MODEL_PATH, train one from
// the default synthetic cohort with a fixed seed, through exactly the arguments that
// `npm run train` takes, and print the command that reproduces it byte for byte.
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseTrainArgs, trainCommand } from './args.js';
import { lineProgress } from './progress.js';
import { trainModel, type TrainingResult } from './train.js';

/**
 * The default model's arguments (without --out). 200 patients over 96 h give 97k feature
 * rows (59k of 120 patients to grow the forest on); with 100 trees of depth 12 the whole
 * run takes about 7 s on an idle 2-core machine. See README.md for the measurements.
 */
export const DEFAULT_MODEL_ARGS: readonly string[] = ['--synthetic', '--seed', '1', '--patients', '200', '--hours', '96', '--trees', '100'];

export interface EnsureDefaultModelOptions {
  /** MODEL_PATH. */
  path: string;
  /** One line of terminal output. */
  say: (line: string) => void;
  /** For SOURCE_DATE_EPOCH (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Replaces DEFAULT_MODEL_ARGS (tests use a smaller cohort). */
  args?: readonly string[];
}

export interface EnsuredModel {
  path: string;
  trained: boolean;
  /** Set when trained. */
  result?: TrainingResult;
  /** The command that reproduces the trained artifact (same bytes). */
  command?: string;
}

/** Trains and saves the default model unless a file exists at `path`. */
export async function ensureDefaultModel(options: EnsureDefaultModelOptions): Promise<EnsuredModel> {
  const { path, say } = options;
  if (existsSync(path)) return { path, trained: false };
  const env = options.env ?? process.env;
  // createdAt is the one field outside the content hash: fix it so the command below gives the same bytes.
  const fromEnv = env.SOURCE_DATE_EPOCH;
  const epoch = fromEnv !== undefined && /^\d+$/.test(fromEnv) ? Number(fromEnv) : Math.floor(Date.now() / 1000);
  const argv = [...(options.args ?? DEFAULT_MODEL_ARGS), '--out', path];
  const command = parseTrainArgs(argv);
  if (command.mode !== 'train') throw new Error('default model arguments must train');
  say(`no model at ${path}: training the default model (${argv.join(' ')})`);
  const started = performance.now();
  const result = await trainModel({ ...command.options, createdAt: new Date(epoch * 1000).toISOString(), progress: lineProgress(say, 'default model: '), reproduce: trainCommand(argv, { SOURCE_DATE_EPOCH: String(epoch) }) });
  const e = result.evaluation;
  say(
    `default model ${result.artifact.version} saved to ${path} in ${((performance.now() - started) / 1000).toFixed(1)} s ` +
      `(test AUROC ${e.model.auroc.toFixed(3)} vs NEWS2 ${e.news2.auroc.toFixed(3)}; report ${result.reportPath ?? 'none'})`,
  );
  const reproduce = trainCommand(argv, { SOURCE_DATE_EPOCH: String(epoch) });
  say(`reproduce it byte for byte (content hash ${result.artifact.contentHash.slice(0, 16)}…): ${reproduce}`);
  return { path, trained: true, result, command: reproduce };
}
