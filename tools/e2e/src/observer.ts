// A test-side reader of the pipeline's topics (its own consumer group, from the beginning):
// - the raw-event topic, record by record: the ground truth of what was published;
// - the feature vectors and dead letters: what the feature service made of each record,
//   so a run knows when the first stage is done without asking the service.
// And the broker's view of the downstream stages (high watermarks, committed offsets).
import { Kafka, logLevel, type Admin, type Consumer, type KafkaConfig } from 'kafkajs';
import { registerKafkaCodecs } from '@ehr/bus';
import { jsonPartOf, TOPICS } from '@ehr/features';
import type { InputRecord } from './accounting.js';

export interface KafkaClientOptions {
  brokers: string;
  sasl?: { mechanism: 'plain'; username: string; password: string };
  /** TLS, trusting this CA (PEM). */
  tls?: { ca: string };
}

export function kafkaClient(options: KafkaClientOptions, clientId: string): Kafka {
  // The services may write LZ4 batches (KAFKA_COMPRESSION): this client must read them too.
  registerKafkaCodecs();
  const config: KafkaConfig = {
    brokers: options.brokers.split(','),
    clientId,
    logLevel: logLevel.NOTHING,
    retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 2_000 },
    ...(options.sasl ? { sasl: options.sasl } : {}),
    ...(options.tls ? { ssl: { ca: [options.tls.ca] } } : {}),
  };
  return new Kafka(config);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `partition:offset` of a record. */
export const positionOf = (partition: number, offset: string) => `${partition}:${offset}`;

const utf8 = new TextDecoder('utf-8');

function parseIds(value: Buffer | null): { eventId: string | null; patientId: string | null } {
  if (!value) return { eventId: null, patientId: null };
  try {
    // Decoded as the feature service decodes it (a leading byte order mark is not part of the JSON).
    const parsed = JSON.parse(utf8.decode(value)) as { eventId?: unknown; patientId?: unknown };
    if (typeof parsed !== 'object' || parsed === null) return { eventId: null, patientId: null };
    return { eventId: typeof parsed.eventId === 'string' ? parsed.eventId : null, patientId: typeof parsed.patientId === 'string' ? parsed.patientId : null };
  } catch {
    return { eventId: null, patientId: null };
  }
}

export interface Observer {
  /** Raw records read so far, in arrival order (offset order within a partition). */
  readonly records: InputRecord[];
  /** Trigger event ids of every feature vector seen. */
  readonly vectorTriggers: Set<string>;
  /** Trigger event id → Kafka timestamp of the first vector it triggered (when the feature service published it). */
  readonly vectorPublishedAt: Map<string, number>;
  /** `partition:offset` of every raw record a dead letter names. */
  readonly deadLetteredPositions: Set<string>;
  /** High watermark of each partition of a topic (wire name from the logical one). */
  highWatermarks(topic: string): Promise<Map<number, bigint>>;
  /** Committed offsets of a group on a topic. */
  committed(groupId: string, topic: string): Promise<Map<number, bigint>>;
  /** Resolves once every raw record up to the current end of the topic has been read. */
  caughtUpOnEvents(deadline: number): Promise<void>;
  /**
   * Resolves once the feature service has an outcome for every raw record: a vector
   * triggered by it, a dead letter naming it, or an earlier record of the same event id
   * with a vector (a duplicate).
   */
  featureStageDone(deadline: number, progress?: (pending: number) => void): Promise<void>;
  stop(): Promise<void>;
}

export async function startObserver(options: KafkaClientOptions & { prefix: string; groupId: string }): Promise<Observer> {
  const kafka = kafkaClient(options, 'e2e-observer');
  const wire = (topic: string) => `${options.prefix}${topic}`;
  const admin: Admin = kafka.admin();
  await admin.connect();
  const consumer: Consumer = kafka.consumer({ groupId: options.groupId, sessionTimeout: 30_000, maxBytesPerPartition: 4 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topics: [wire(TOPICS.events), wire(TOPICS.features), wire(TOPICS.deadLetter)], fromBeginning: true });

  const records: InputRecord[] = [];
  const read = new Map<number, bigint>(); // next offset to read, raw topic
  const vectorTriggers = new Set<string>();
  const vectorPublishedAt = new Map<string, number>();
  const deadLetteredPositions = new Set<string>();
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      if (batch.topic === wire(TOPICS.events)) {
        for (const m of batch.messages) {
          const label = m.headers?.['e2e-case']?.toString();
          records.push({ partition: batch.partition, offset: m.offset, ...parseIds(m.value), timestamp: Number(m.timestamp), ...(label ? { label } : {}) });
          read.set(batch.partition, BigInt(m.offset) + 1n);
        }
      } else if (batch.topic === wire(TOPICS.features)) {
        for (const m of batch.messages) {
          // Only the trigger id is needed: read it from the frame's JSON header (or the JSON of before).
          const text = m.value ? Buffer.from(jsonPartOf(m.value)).toString('utf8') : '';
          const match = /"triggerEventId":"([^"]+)"/.exec(text);
          if (match) {
            vectorTriggers.add(match[1]!);
            if (!vectorPublishedAt.has(match[1]!)) vectorPublishedAt.set(match[1]!, Number(m.timestamp));
          }
        }
      } else {
        for (const m of batch.messages) {
          try {
            const d = JSON.parse(m.value?.toString('utf8') ?? 'null') as { sourceTopic?: string; sourcePartition?: number | null; sourceOffset?: string | null };
            if (d && (d.sourceTopic === TOPICS.events || d.sourceTopic === wire(TOPICS.events))) {
              deadLetteredPositions.add(positionOf(d.sourcePartition ?? -1, d.sourceOffset ?? ''));
            }
          } catch {
            // not a dead letter: the sink accounts for it
          }
        }
      }
    },
  });

  const highWatermarks = async (topic: string) => {
    const offsets = await admin.fetchTopicOffsets(wire(topic));
    return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  };

  const observer: Observer = {
    records,
    vectorTriggers,
    vectorPublishedAt,
    deadLetteredPositions,
    highWatermarks,
    async committed(groupId, topic) {
      const [entry] = await admin.fetchOffsets({ groupId, topics: [wire(topic)] });
      return new Map((entry?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
    },
    async caughtUpOnEvents(deadline) {
      const ends = await highWatermarks(TOPICS.events);
      while ([...ends].some(([p, end]) => (read.get(p) ?? 0n) < end)) {
        if (Date.now() > deadline) throw new Error(`observer: raw topic not read to its end in time (${records.length} records read)`);
        await sleep(100);
      }
    },
    async featureStageDone(deadline, progress) {
      await observer.caughtUpOnEvents(deadline);
      let lastReport = 0;
      for (;;) {
        let pending = 0;
        for (const r of records) {
          const done = deadLetteredPositions.has(positionOf(r.partition, r.offset)) || (r.eventId !== null && vectorTriggers.has(r.eventId));
          if (!done) pending++;
        }
        if (pending === 0) return;
        if (progress && Date.now() - lastReport > 5_000) {
          progress(pending);
          lastReport = Date.now();
        }
        if (Date.now() > deadline) throw new Error(`feature stage not done in time: ${pending} of ${records.length} raw records have no vector, dead letter or earlier vector of their id`);
        await sleep(250);
      }
    },
    async stop() {
      await consumer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    },
  };
  return observer;
}
