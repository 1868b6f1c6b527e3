// One-shot: the default model into MODEL_PATH when none is there (compose's `model` step).
import { createLogger } from '@ehr/runtime';
import { prepareDefaultModel } from '../model.js';

const logger = createLogger({ service: 'model', level: process.env.LOG_LEVEL ?? 'info' });
try {
  const ensured = await prepareDefaultModel(process.env, (line) => logger.info(line));
  logger.info({ path: ensured.path, trained: ensured.trained }, ensured.trained ? 'default model trained' : 'a model is already there: kept');
} catch (err) {
  logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'could not prepare the default model');
  process.exitCode = 1;
}
