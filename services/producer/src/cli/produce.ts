#!/usr/bin/env node
// npm run produce -- --source synthetic|meds|csv [--file <path>] [--speed <x>|max]
// Streams to the raw topic of Kafka (KAFKA_BROKERS) or, without it, to a running
// producer's POST /events (npm start). Progress on a terminal; JSON logs otherwise.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createBus } from '@ehr/bus';
import { MEDS_DEMO_RELATIVE_PATH, PHYSIONET_RELATIVE_PATH } from '@ehr/cohort';
import { TOPICS, type RawEvent } from '@ehr/features';
import { createLogger, createMetricsRegistry } from '@ehr/runtime';
import { loadConfig } from '../config.js';
import { createEventPublisher } from '../publisher.js';
import { openSource, type SourceKind, type SourceSpec } from '../sources.js';
import { describePace, streamEvents, type StreamProgress } from '../stream.js';
import { problemText } from './problem-text.js';

const USAGE = `usage: npm run produce -- --source synthetic|meds|csv|physionet [--file <path>] [--speed <x>|max] [--rate <events/s>]
         [--seed 1] [--patients 300] [--hours <n>] [--artefact-rate 0.01] [--no-shift] [--limit <events>]
         [--to kafka|http://127.0.0.1:3001]
  synthetic  a ward with continuous admissions and discharges (default 50 events/s, endless unless --hours/--limit)
  meds       a MEDS parquet file (default: the MIMIC-IV demo at ${MEDS_DEMO_RELATIVE_PATH}), ×60, times moved so the replay ends now
  csv        a cohort directory written by npm run generate (default data/cohort), ×60, times moved so the replay ends now
  physionet  PhysioNet/CinC 2019 ICU stays (default PHYSIONET_PATH, else ${PHYSIONET_RELATIVE_PATH}; or a directory
             of .psv files): the first --patients stays (default 100), one starting every 30 min, ×60, times moved so the replay ends now
  --to       Kafka when KAFKA_BROKERS is set, else the POST /events of a running producer (npm start)`;

const int = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got ${JSON.stringify(v)}`);
  return n;
};

async function* limited(events: AsyncIterable<RawEvent> | Iterable<RawEvent>, limit: number | undefined): AsyncGenerator<RawEvent> {
  if (limit === 0) return;
  let n = 0;
  for await (const e of events) {
    yield e;
    if (limit !== undefined && ++n >= limit) return;
  }
}


async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      source: { type: 'string' },
      file: { type: 'string' },
      speed: { type: 'string' },
      rate: { type: 'string' },
      seed: { type: 'string' },
      patients: { type: 'string' },
      hours: { type: 'string' },
      'artefact-rate': { type: 'string' },
      'no-shift': { type: 'boolean' },
      limit: { type: 'string' },
      to: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const kind = (values.source ?? 'synthetic') as SourceKind;
  if (!['synthetic', 'meds', 'csv', 'physionet'].includes(kind)) throw new Error(`--source must be synthetic, meds, csv or physionet, got ${JSON.stringify(values.source)}`);
  const physionetDefault = process.env.PHYSIONET_PATH ?? PHYSIONET_RELATIVE_PATH;
  const file = values.file ?? (kind === 'meds' ? MEDS_DEMO_RELATIVE_PATH : kind === 'csv' ? 'data/cohort' : kind === 'physionet' ? physionetDefault : undefined);
  const hours = int('hours', values.hours);
  const seed = int('seed', values.seed);
  const census = int('patients', values.patients);
  const rate = int('rate', values.rate);
  const artefactRate = int('artefact-rate', values['artefact-rate']);
  const spec: SourceSpec = {
    kind,
    ...(file ? { file: resolve(file) } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(census !== undefined ? (kind === 'physionet' ? { stays: census } : { census }) : {}),
    ...(kind === 'physionet' ? { warn: (m: string) => process.stderr.write(`warning: ${m}\n`) } : {}),
    ...(hours !== undefined ? { hours } : {}),
    ...(rate !== undefined ? { rate } : {}),
    ...(artefactRate !== undefined ? { artefactRate } : {}),
    ...(values.speed !== undefined ? { speed: values.speed === 'max' ? 'max' : Number(values.speed.replace(/^x|x$/gi, '')) } : {}),
    ...(values['no-shift'] ? { shift: false } : {}),
  };

  const config = loadConfig({ ...process.env, PRODUCER_SOURCE: 'none' });
  const logger = createLogger({ service: 'producer-cli', level: config.LOG_LEVEL, destination: process.stdout.isTTY ? process.stderr : process.stdout });
  const target = values.to ?? (config.KAFKA_BROKERS ? 'kafka' : 'http://127.0.0.1:3001');
  let publish: (events: RawEvent[]) => Promise<void>;
  let close = async () => {};
  if (target === 'kafka') {
    if (!config.KAFKA_BROKERS) throw new Error('--to kafka needs KAFKA_BROKERS (host:port,...)');
    const bus = createBus(config, { clientId: 'producer-cli', logger });
    await bus.connect();
    await bus.ensureTopics([{ topic: TOPICS.events, partitions: config.KAFKA_TOPIC_PARTITIONS }]);
    const publisher = createEventPublisher(bus, createMetricsRegistry('producer-cli'));
    publish = (events) => publisher.publish(events);
    close = () => bus.close();
  } else {
    const url = new URL('/events', target).toString();
    // The ingest token: EHR_INGEST_TOKEN (what compose's .env and `npm run stack` name it), else the first of AUTH_INGEST_TOKENS.
    const token = process.env.EHR_INGEST_TOKEN || config.AUTH_INGEST_TOKENS?.split(',')[0]?.trim();
    const headers = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
    publish = async (events) => {
      for (let i = 0; i < events.length; i += 5000) {
        const body = JSON.stringify(events.slice(i, i + 5000));
        // 503 (broker not confirming) and 429 (too many requests): wait as told and send the same
        // events again; their ids are the same, so a copy that landed late is dropped downstream.
        for (let attempt = 1; ; attempt++) {
          const response = await fetch(url, { method: 'POST', headers, body }).catch((err: unknown) => {
            throw new Error(`cannot reach ${url} (${err instanceof Error ? err.message : String(err)}): start the pipeline (npm start), or set KAFKA_BROKERS`);
          });
          if (response.ok) break;
          const text = problemText(await response.text());
          if ((response.status === 503 || response.status === 429) && attempt < 60) {
            const waitS = Number(response.headers.get('retry-after')) || 1;
            logger.warn({ status: response.status, attempt, retryInSeconds: waitS }, `intake busy: ${text}`);
            await new Promise((r) => setTimeout(r, waitS * 1000));
            continue;
          }
          const hint = response.status === 401 ? ' (set EHR_INGEST_TOKEN to a token with the ingest scope)' : '';
          throw new Error(`${url} answered ${response.status}${hint}: ${text}`);
        }
      }
    };
  }

  const opened = await openSource(spec);
  const limit = int('limit', values.limit);
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  process.once('SIGTERM', () => abort.abort());
  const tty = process.stderr.isTTY;
  logger.info({ source: kind, target: target === 'kafka' ? 'kafka' : 'http' }, `streaming ${opened.description}, ${describePace(opened.pace)}`);
  let lastShown = 0;
  const show = (p: StreamProgress) => {
    const t = Date.now();
    if (!p.done && t - lastShown < (tty ? 250 : 5000)) return;
    lastShown = t;
    const rateNow = p.elapsedMs > 0 ? Math.round((p.published * 1000) / p.elapsedMs) : 0;
    if (tty) process.stderr.write(`\r\x1b[Kpublished ${p.published.toLocaleString('en')} events · ${rateNow.toLocaleString('en')}/s · event time ${p.eventTime ?? '-'}${p.done ? '\n' : ''}`);
    else logger.info({ published: p.published, eventsPerSecond: rateNow, eventTime: p.eventTime, done: p.done }, 'progress');
  };
  try {
    const result = await streamEvents({
      events: limited(opened.events, limit),
      pace: opened.pace,
      ...(opened.shiftTo !== undefined ? { shiftTo: opened.shiftTo } : {}),
      // Shifted sources never date an event ahead of the wall clock (the pipeline refuses them as future_event).
      holdAtWallClock: !values['no-shift'],
      publish,
      signal: abort.signal,
      onProgress: show,
    });
    if (tty && !result.done) process.stderr.write('\n');
    logger.info({ published: result.published, seconds: Math.round(result.elapsedMs / 100) / 10, complete: result.done }, result.done ? 'done' : 'stopped');
  } finally {
    await close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`produce: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
