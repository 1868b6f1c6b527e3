// The default model as a step of its own, before scoring starts: the scoring service only
// loads artifacts, so its image carries no generator and no training code. `npm start`,
// `npm run stack` and compose's `model` step all run this.
import { ensureDefaultModel, type EnsuredModel } from '@ehr/training';
import { readConfig, type Static } from '@ehr/runtime';
import { Type } from '@sinclair/typebox';

export const ModelStepEnv = Type.Object({
  MODEL_PATH: Type.String({ minLength: 1, default: 'data/model/severity-model.json', description: 'where the default model is written when no artifact is there' }),
});
export type ModelStepConfig = Static<typeof ModelStepEnv>;

/** Trains the default model into MODEL_PATH unless an artifact is already there. */
export async function prepareDefaultModel(
  env: Readonly<Record<string, string | undefined>>,
  say: (line: string) => void,
  /** Replaces the default model's training arguments (tests train a smaller one). */
  args?: readonly string[],
): Promise<EnsuredModel> {
  const { MODEL_PATH } = readConfig(ModelStepEnv, env, 'model');
  // Real ICU stays when the PhysioNet data is there (PHYSIONET_PATH or ../shared/data),
  // synthetic patients otherwise; the returned reason says which, for the log and the ward.
  const ensured = await ensureDefaultModel({ path: MODEL_PATH, say, env, realData: args === undefined, ...(args ? { args } : {}) });
  say(`default model: ${ensured.reason}`);
  return ensured;
}
