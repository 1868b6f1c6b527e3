// What a run streams in: a synthetic cohort (with its artefacts: duplicates, late and
// out-of-order deliveries, impossible values), published straight onto the raw topic or
// through the producer's POST /events; and poison records the producer would refuse.
import { cohortStream, type CohortOptions } from '@ehr/cohort';
import { KafkaBus } from '@ehr/bus';
import { TOPICS, type RawEvent } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import type { KafkaClientOptions } from './observer.js';

/** A cohort's events in delivery order (what a source would send). */
export function cohortEvents(options: CohortOptions): RawEvent[] {
  const events: RawEvent[] = [];
  for (const e of cohortStream(options)) events.push(e.event);
  return events;
}

/** Patients and encounters appearing in events (for the log-safety needles). */
export function identities(events: Iterable<RawEvent>): { patientId: string; encounterId: string | null }[] {
  const seen = new Map<string, { patientId: string; encounterId: string | null }>();
  for (const e of events) seen.set(`${e.patientId}\u0000${e.encounterId ?? ''}`, { patientId: e.patientId, encounterId: e.encounterId });
  return [...seen.values()];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A KafkaBus onto the run's topics (same partitioner as the services: keyed by patient). */
export async function rawBus(kafka: KafkaClientOptions, prefix: string): Promise<KafkaBus> {
  const bus = new KafkaBus({
    brokers: kafka.brokers.split(','),
    clientId: 'e2e-input',
    logger: createLogger({ service: 'e2e-input', level: 'silent' }),
    topicPrefix: prefix,
    ...(kafka.sasl ? { sasl: kafka.sasl } : {}),
    ...(kafka.tls ? { ssl: { ca: [kafka.tls.ca] } } : {}),
  });
  await bus.connect();
  return bus;
}

export interface StreamOptions {
  /** Events per batch (one produce or one POST). */
  batchSize?: number;
  /** Target events per second (default: as fast as it goes). */
  rate?: number;
  /** Called before each batch with the index of its first event (inject faults mid-stream). */
  onBatch?: (index: number) => Promise<void> | void;
  signal?: AbortSignal;
}

/** Paces batches at `rate` events/s from the start (catching up after a stall, never bursting past it). */
async function paced<T>(items: readonly T[], options: StreamOptions, send: (batch: readonly T[]) => Promise<void>): Promise<void> {
  const size = options.batchSize ?? 200;
  const started = Date.now();
  for (let i = 0; i < items.length; i += size) {
    options.signal?.throwIfAborted();
    await options.onBatch?.(i);
    if (options.rate) {
      const due = started + (i / options.rate) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
    }
    await send(items.slice(i, i + size));
  }
}

/** Publishes events onto the raw topic, keyed by patient id. */
export async function publishEvents(bus: KafkaBus, events: readonly RawEvent[], options: StreamOptions = {}): Promise<void> {
  await paced(events, options, (batch) => bus.produce(TOPICS.events, batch.map((e) => ({ key: e.patientId, value: JSON.stringify(e) }))));
}

export interface PostStats {
  requests: number;
  /** Requests that failed (connection refused while the producer was down, 5xx) and were sent again. */
  retries: number;
}

/**
 * Streams events through the producer's POST /events. A failed request is sent again
 * until `retryForMs` has passed (the producer may be down, being restarted): a retry of a
 * request whose answer was lost publishes its events twice, which the pipeline must
 * absorb (same event ids: duplicates).
 */
export async function postEvents(url: () => string, events: readonly RawEvent[], options: StreamOptions & { retryForMs?: number } = {}): Promise<PostStats> {
  const stats: PostStats = { requests: 0, retries: 0 };
  const retryForMs = options.retryForMs ?? 60_000;
  await paced(events, options, async (batch) => {
    const giveUp = Date.now() + retryForMs;
    for (;;) {
      stats.requests++;
      let problem: string;
      try {
        const response = await fetch(`${url()}/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(batch),
          signal: AbortSignal.timeout(15_000),
        });
        const text = await response.text();
        if (response.status === 202) return;
        if (response.status < 500) throw new Error(`POST /events answered ${response.status}: ${text.slice(0, 500)}`);
        problem = `HTTP ${response.status}`;
      } catch (error) {
        if (error instanceof Error && error.message.startsWith('POST /events answered')) throw error;
        problem = error instanceof Error ? error.message : String(error);
      }
      if (Date.now() > giveUp) throw new Error(`POST /events kept failing for ${retryForMs} ms: ${problem}`);
      stats.retries++;
      await sleep(100);
    }
  });
  return stats;
}
