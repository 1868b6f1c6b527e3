import { BusEnv, ConsumerEnv } from '@ehr/bus';
import {
  DEFAULT_ENGINE_OPTIONS,
  DEFAULT_MAX_DEDUP_IDS,
  DEFAULT_MAX_POINTS_PER_SIGNAL,
  FutureSkewEnv,
  HOUR_MS,
  RAW_EVENT_SCHEMA_NAMES,
  type EngineOptions,
  type RawEventSchemaName,
} from '@ehr/features';
import { ConfigError, portEnv, readConfig, ServiceEnv, type Static } from '@ehr/runtime';
import { Type } from '@sinclair/typebox';
import type { FeatureProcessorOptions } from './processor.js';

export const FeatureEnv = Type.Composite([
  ServiceEnv,
  portEnv(3002),
  BusEnv,
  ConsumerEnv,
  FutureSkewEnv,
  Type.Object({
    FEATURE_GROUP_ID: Type.String({ minLength: 1, default: 'feature-service', description: 'consumer group of the feature service' }),
    FEATURE_TRIGGERS: Type.String({
      default: RAW_EVENT_SCHEMA_NAMES.join(','),
      description: `comma-separated event schemas that emit a vector (of ${RAW_EVENT_SCHEMA_NAMES.join(', ')})`,
    }),
    FEATURE_DEBOUNCE_SECONDS: Type.Number({ minimum: 0, default: 0, description: 'event-time seconds after a vector during which a patient\'s further events are merged into the next one' }),
    FEATURE_LATENESS_MINUTES: Type.Number({ minimum: 0, default: DEFAULT_ENGINE_OPTIONS.latenessMs / 60_000, description: 'events older than a patient\'s latest by more than this are dead-lettered as late_event' }),
    FEATURE_STUB_RETENTION_HOURS: Type.Number({ minimum: 0, default: DEFAULT_ENGINE_OPTIONS.stubRetentionMs / HOUR_MS, description: 'event-time hours a discharged patient\'s stub is kept' }),
    FEATURE_IDLE_RETENTION_HOURS: Type.Number({ minimum: 1, default: DEFAULT_ENGINE_OPTIONS.idleRetentionMs / HOUR_MS, description: 'event-time hours a silent patient\'s state is kept' }),
    FEATURE_STATE_CHANGELOG: Type.Union([Type.Literal('auto'), Type.Literal('on'), Type.Literal('off')], {
      default: 'auto',
      description: 'keep state in the compacted changelog topic (auto: on with Kafka, off with the in-memory bus)',
    }),
    FEATURE_CHECKPOINT_INTERVAL_MS: Type.Integer({ minimum: 0, default: 2000, description: 'how often a partition\'s changed states are written and its offset committed' }),
    FEATURE_CHECKPOINT_MAX_EVENTS: Type.Integer({ minimum: 1, default: 20_000, description: 'checkpoint a partition after this many events even inside the interval' }),
    FEATURE_RESTORE_TIMEOUT_MS: Type.Integer({ minimum: 1000, default: 120_000, description: 'give up (and retry) a state restore after this long' }),
    FEATURE_MAX_POINTS_PER_SIGNAL: Type.Integer({
      minimum: 64,
      default: DEFAULT_MAX_POINTS_PER_SIGNAL,
      description: 'points kept per signal (and notes) per patient; past it the older ones are kept per minute (lowest, highest, count)',
    }),
    FEATURE_MAX_DEDUP_IDS: Type.Integer({
      minimum: 100,
      default: DEFAULT_MAX_DEDUP_IDS,
      description: 'event ids remembered per patient for deduplication; an event older than the oldest remembered is late_event',
    }),
    FEATURE_MAX_PATIENTS: Type.Integer({
      minimum: 1,
      default: 60_000,
      description: 'active patients held by one instance (about 1.6 KB each; the default fits the 192 MiB heap the service runs with); past it the least recently seen are evicted (metric and warning)',
    }),
    FEATURE_MAX_STATE_BYTES: Type.Integer({
      minimum: 65_536,
      default: 96 * 1024 * 1024,
      description:
        'bytes of patient state held by one instance (as ehr_feature_state_bytes counts them; the default is FEATURE_MAX_PATIENTS of typical patients): past it the least recently seen are evicted, however few they are (metric and warning)',
    }),
  }),
]);
export type FeatureConfig = Static<typeof FeatureEnv>;

export const loadConfig = (env: Readonly<Record<string, string | undefined>>): FeatureConfig => {
  const config = readConfig(FeatureEnv, env, 'feature');
  engineOptions(config); // fail fast on a bad trigger list
  return config;
};

/** The processor's options from the service's config (`changelog`: whether state goes to the changelog topic). */
export function processorOptions(config: FeatureConfig, changelog: boolean): FeatureProcessorOptions {
  return {
    engine: engineOptions(config),
    changelog,
    changelogPartitions: config.KAFKA_TOPIC_PARTITIONS,
    groupId: config.FEATURE_GROUP_ID,
    checkpointIntervalMs: config.FEATURE_CHECKPOINT_INTERVAL_MS,
    checkpointMaxEvents: config.FEATURE_CHECKPOINT_MAX_EVENTS,
    restoreTimeoutMs: config.FEATURE_RESTORE_TIMEOUT_MS,
    maxFutureSkewMs: config.MAX_FUTURE_SKEW * 1000,
    maxPatients: config.FEATURE_MAX_PATIENTS,
    maxStateBytes: config.FEATURE_MAX_STATE_BYTES,
  };
}

/** The engine's options from the service's config: the same knobs the batch API takes. */
export function engineOptions(config: FeatureConfig): EngineOptions {
  const triggers = config.FEATURE_TRIGGERS.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = triggers.filter((t) => !(RAW_EVENT_SCHEMA_NAMES as readonly string[]).includes(t));
  if (unknown.length > 0) {
    const message = `unknown event schema(s) ${unknown.join(', ')}; expected ${RAW_EVENT_SCHEMA_NAMES.join(', ')}`;
    throw new ConfigError(`invalid configuration for feature:\n  FEATURE_TRIGGERS: ${message}`, [{ variable: 'FEATURE_TRIGGERS', message }]);
  }
  return {
    triggers: new Set(triggers as RawEventSchemaName[]),
    debounceMs: config.FEATURE_DEBOUNCE_SECONDS * 1000,
    latenessMs: config.FEATURE_LATENESS_MINUTES * 60_000,
    stubRetentionMs: config.FEATURE_STUB_RETENTION_HOURS * HOUR_MS,
    idleRetentionMs: config.FEATURE_IDLE_RETENTION_HOURS * HOUR_MS,
    maxPointsPerSignal: config.FEATURE_MAX_POINTS_PER_SIGNAL,
    maxDedupIds: config.FEATURE_MAX_DEDUP_IDS,
  };
}
