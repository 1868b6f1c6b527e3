#!/usr/bin/env node
// npm run produce -- --source synthetic|meds|csv|physionet [--file <path>] [--speed <x>|max]
// Streams to the raw topic of Kafka (KAFKA_BROKERS) or, without it, to a running
// producer's POST /events (npm start). Arguments are checked before anything is opened.
import { resolve } from 'node:path';
import { createBus } from '@ehr/bus';
import { main } from '@ehr/cli';
import { MEDS_DEMO_RELATIVE_PATH, PHYSIONET_RELATIVE_PATH } from '@ehr/cohort';
import { TOPICS, type RawEvent } from '@ehr/features';
import { createLogger, createMetricsRegistry } from '@ehr/runtime';
import { loadConfig } from '../config.js';
import { createEventPublisher } from '../publisher.js';
import { openSource, type SourceSpec } from '../sources.js';
import { describePace, streamEvents } from '../stream.js';
import { httpPublisher } from './http-publish.js';
import { createProduceProgram, type ProduceOptions } from './produce-program.js';
import { createProgressDisplay } from './progress.js';

async function* limited(events: AsyncIterable<RawEvent> | Iterable<RawEvent>, limit: number | undefined): AsyncGenerator<RawEvent> {
  if (limit === 0) return;
  let n = 0;
  for await (const e of events) {
    yield e;
    if (limit !== undefined && ++n >= limit) return;
  }
}

function sourceSpec(o: ProduceOptions): SourceSpec {
  const kind = o.source;
  const physionetDefault = process.env.PHYSIONET_PATH ?? PHYSIONET_RELATIVE_PATH;
  const file = o.file ?? (kind === 'meds' ? MEDS_DEMO_RELATIVE_PATH : kind === 'csv' ? 'data/cohort' : kind === 'physionet' ? physionetDefault : undefined);
  return {
    kind,
    ...(file ? { file: resolve(file) } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.patients !== undefined ? (kind === 'physionet' ? { stays: o.patients } : { census: o.patients }) : {}),
    ...(kind === 'physionet' ? { warn: (m: string) => process.stderr.write(`warning: ${m}\n`) } : {}),
    ...(o.hours !== undefined ? { hours: o.hours } : {}),
    ...(o.rate !== undefined ? { rate: o.rate } : {}),
    ...(o.artefactRate !== undefined ? { artefactRate: o.artefactRate } : {}),
    ...(o.speed !== undefined ? { speed: o.speed } : {}),
    ...(o.shift ? {} : { shift: false }),
  };
}

await main(createProduceProgram(), async (program) => {
  const o = program.opts<ProduceOptions>();
  const config = loadConfig({ ...process.env, PRODUCER_SOURCE: 'none' });
  const logger = createLogger({ service: 'producer-cli', level: config.LOG_LEVEL, destination: process.stdout.isTTY ? process.stderr : process.stdout });
  const target = o.to ?? (config.KAFKA_BROKERS ? 'kafka' : 'http://127.0.0.1:3001');
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
    // The ingest token: EHR_INGEST_TOKEN (what compose's .env and `npm run stack` name it), else the first of AUTH_INGEST_TOKENS.
    const token = process.env.EHR_INGEST_TOKEN || config.AUTH_INGEST_TOKENS?.split(',')[0]?.trim();
    publish = httpPublisher(target, token, logger);
  }

  const opened = await openSource(sourceSpec(o));
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  process.once('SIGTERM', () => abort.abort());
  logger.info({ source: o.source, target: target === 'kafka' ? 'kafka' : 'http' }, `streaming ${opened.description}, ${describePace(opened.pace)}`);
  const total = opened.total !== undefined && o.limit !== undefined ? Math.min(opened.total, o.limit) : (opened.total ?? o.limit);
  const display = createProgressDisplay({ total, stream: process.stderr, logger });
  try {
    const result = await streamEvents({
      events: limited(opened.events, o.limit),
      pace: opened.pace,
      ...(opened.shiftTo !== undefined ? { shiftTo: opened.shiftTo } : {}),
      // Shifted sources never date an event ahead of the wall clock (the pipeline refuses them as future_event).
      holdAtWallClock: o.shift,
      publish,
      signal: abort.signal,
      onProgress: (p) => display.show(p),
    });
    display.end();
    logger.info({ published: result.published, seconds: Math.round(result.elapsedMs / 100) / 10, complete: result.done }, result.done ? 'done' : 'stopped');
  } finally {
    await close();
  }
});
