// One-shot: the default model into MODEL_PATH when none is there (compose's `model` step).
import { createCommand, main } from '@ehr/cli';
import { createLogger } from '@ehr/runtime';
import { prepareDefaultModel } from '../model.js';

const program = createCommand('model', "Trains the default model into MODEL_PATH when none is there (compose's model step); keeps one that is. Configured by MODEL_PATH, PHYSIONET_PATH and LOG_LEVEL.").usage(
  '   (node apps/init/dist/cli/model.js)',
);

await main(program, async () => {
  const logger = createLogger({ service: 'model', level: process.env.LOG_LEVEL ?? 'info' });
  try {
    const ensured = await prepareDefaultModel(process.env, (line) => logger.info(line));
    logger.info({ path: ensured.path, trained: ensured.trained }, ensured.trained ? 'default model trained' : 'a model is already there: kept');
    return 0;
  } catch (err) {
    // A container's log: one JSON line, like every other line of the step.
    logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'could not prepare the default model');
    return 1;
  }
});
