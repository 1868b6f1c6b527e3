import { BusEnv, ConsumerEnv } from '@ehr/bus';
import { AuthEnv, portEnv, readConfig, ServiceEnv, type Static } from '@ehr/runtime';
import { Type } from '@sinclair/typebox';

export const ScoringEnv = Type.Composite([
  ServiceEnv,
  portEnv(3003),
  BusEnv,
  AuthEnv,
  ConsumerEnv,
  Type.Object({
    SCORING_GROUP_ID: Type.String({ minLength: 1, default: 'scoring-service', description: 'consumer group of the scoring service' }),
    MODEL_PATH: Type.String({ minLength: 1, default: 'data/model/severity-model.json', description: 'model artifact to load (and watch)' }),
    MODEL_WATCH: Type.Boolean({ default: true, description: 'reload the model when the artifact file changes' }),
    MODEL_WATCH_INTERVAL_MS: Type.Integer({ minimum: 100, default: 2_000, description: 'how often the artifact file is checked for changes' }),
    MODEL_MAX_BYTES: Type.Optional(
      Type.Integer({
        minimum: 1024 * 1024,
        description: 'largest model artifact (on disk, and its JSON once decompressed) loaded; default a sixth of the heap (44 MB at the manifest\'s 256 MiB), since a file the heap cannot hold would end the process',
      }),
    ),
    SCORING_ADMIN_TOKEN: Type.Optional(
      Type.String({ minLength: 16, description: 'bearer token for POST /model/reload; admin endpoints are refused while unset' }),
    ),
    SCORING_TOP_FEATURES: Type.Integer({ minimum: 0, maximum: 50, default: 5, description: 'contributing features kept per score' }),
    // Both windows are held in memory: the drift window as a column of doubles per model
    // feature (211 × 20,000 × 8 bytes = 34 MB at its maximum), the challenger's as about 160
    // bytes of heap a vector (16 MB at 100,000). At 1,000,000 the challenger window alone would
    // outgrow the 256 MiB heap hours in, when it filled, and restart the service over and over.
    SCORING_DRIFT_WINDOW: Type.Integer({ minimum: 100, maximum: 20_000, default: 5_000, description: 'live feature vectors per drift (PSI) window' }),
    CHALLENGER_MODEL_PATH: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'a second model artifact scored silently beside the served one (watched like MODEL_PATH); its scores go to ehr.shadow-scores.v1, never to the ward',
      }),
    ),
    SCORING_CHALLENGER_WINDOW: Type.Integer({ minimum: 10, maximum: 100_000, default: 5_000, description: 'latest scored vectors the challenger comparison (GET /model) is computed over' }),
    SCORING_CONCURRENT_PARTITIONS: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 3,
      description: 'feature-vector partitions whose batches are scored at once (Kafka); each partition stays in order. Overlaps one batch\'s produce and commit round trips with another\'s scoring',
    }),
    SCORING_BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 1024 * 1024, description: 'largest accepted HTTP request body' }),
  }),
]);
export type ScoringConfig = Static<typeof ScoringEnv>;

export const loadConfig = (env: Readonly<Record<string, string | undefined>>): ScoringConfig => readConfig(ScoringEnv, env, 'scoring');
