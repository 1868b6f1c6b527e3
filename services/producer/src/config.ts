import { BusEnv } from '@ehr/bus';
import { FutureSkewEnv } from '@ehr/features';
import { AuthEnv, portEnv, readConfig, ServiceEnv, type Static } from '@ehr/runtime';
import { Type } from '@sinclair/typebox';

export const ProducerEnv = Type.Composite([
  ServiceEnv,
  portEnv(3001),
  BusEnv,
  AuthEnv,
  FutureSkewEnv,
  Type.Object({
    PRODUCER_PUBLISH_TIMEOUT_MS: Type.Integer({
      minimum: 100,
      maximum: 60_000,
      default: 1_500,
      description: 'deadline of one ingest request\'s produce: past it (or while earlier ones are still unconfirmed) intake answers 503 with Retry-After (npm start on its in-memory bus: 10000 unless set)',
    }),
    PRODUCER_MAX_CONCURRENT_REQUESTS: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 32,
      description: 'ingest requests (POST /events, /fhir) held at once, counting produces still unconfirmed after a 503; past it 429 with Retry-After',
    }),
    PRODUCER_BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 5 * 1024 * 1024, description: 'largest accepted HTTP request body' }),
    PRODUCER_MAX_BATCH_EVENTS: Type.Integer({ minimum: 1, default: 10_000, description: 'most events accepted in one POST /events (and entries in one FHIR Bundle)' }),
    PRODUCER_SOURCE: Type.Union([Type.Literal('none'), Type.Literal('synthetic'), Type.Literal('meds'), Type.Literal('csv'), Type.Literal('physionet')], {
      default: 'none',
      description:
        'stream this source to the raw topic while the service runs: a synthetic ward (continuous admissions and discharges), a MEDS file, a cohort CSV directory, or real ICU stays (PhysioNet/CinC 2019 parquet or .psv directory)',
    }),
    PRODUCER_RATE: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000, default: 50, description: 'events per second for the synthetic ward (the demo pace)' }),
    PRODUCER_SPEED: Type.Optional(
      Type.Union([Type.Literal('max'), Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 })], { description: 'event-time speed-up for meds/csv replays (×N of real time, or max); default 60' }),
    ),
    PRODUCER_SEED: Type.Integer({ minimum: 0, maximum: 4294967295, default: 1, description: 'seed of the synthetic ward' }),
    PRODUCER_CENSUS: Type.Integer({ minimum: 1, maximum: 100_000, default: 300, description: 'beds of the synthetic ward' }),
    PRODUCER_ARTEFACT_RATE: Type.Number({ minimum: 0, maximum: 0.2, default: 0.01, description: 'share of synthetic events with a deliberate artefact' }),
    PRODUCER_BACKFILL_HOURS: Type.Number({
      minimum: 0,
      maximum: 24 * 30,
      default: 24,
      description: 'the synthetic ward starts this many hours in the past, streams at PRODUCER_RATE until it reaches the wall clock, then in real time (no event is ever dated ahead of the wall clock)',
    }),
    PRODUCER_FILE: Type.Optional(
      Type.String({ minLength: 1, description: 'the MEDS parquet file (meds), cohort directory (csv), or PhysioNet parquet / .psv directory (physionet) to replay' }),
    ),
    PRODUCER_STAYS: Type.Integer({ minimum: 1, maximum: 100_000, default: 100, description: 'physionet: how many ICU stays to replay (the first ones)' }),
  }),
]);
export type ProducerConfig = Static<typeof ProducerEnv>;

export const loadConfig = (env: Readonly<Record<string, string | undefined>>): ProducerConfig => {
  const config = readConfig(ProducerEnv, env, 'producer');
  if ((config.PRODUCER_SOURCE === 'meds' || config.PRODUCER_SOURCE === 'csv' || config.PRODUCER_SOURCE === 'physionet') && !config.PRODUCER_FILE) {
    return readConfig(Type.Composite([ProducerEnv, Type.Object({ PRODUCER_FILE: Type.String({ minLength: 1, description: `required with PRODUCER_SOURCE=${config.PRODUCER_SOURCE}` }) })]), env, 'producer');
  }
  return config;
};
