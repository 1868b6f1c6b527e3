import type { Bus, RecordBatch } from '@ehr/bus';
import { decodeFeatureVector, TOPICS, triage } from '@ehr/features';
import { Counter, Histogram, type Logger, type Registry } from '@ehr/runtime';
import type { DriftMonitor } from './drift.js';
import type { ModelHolder } from './model-holder.js';
import { scoreVector } from './scorer.js';

export interface ScoringProcessorDeps {
  bus: Bus;
  logger: Logger;
  metrics: Registry;
  models: ModelHolder;
  drift: DriftMonitor;
  topK: number;
  now?: () => Date;
}

/** Feature vectors in, severity scores out (dead letters for what cannot be read). */
export function createScoringProcessor({ bus, logger, metrics, models, drift, topK, now = () => new Date() }: ScoringProcessorDeps) {
  const vectors = new Counter({ name: 'ehr_scoring_vectors_total', help: 'feature vectors consumed', registers: [metrics] });
  const scores = new Counter({ name: 'ehr_scoring_scores_total', help: 'scores emitted, by band and mode', labelNames: ['band', 'mode'], registers: [metrics] });
  const deadLetters = new Counter({
    name: 'ehr_scoring_dead_letters_total',
    help: 'feature vectors rejected, by reason',
    labelNames: ['reason'],
    registers: [metrics],
  });
  const inference = new Histogram({
    name: 'ehr_scoring_inference_seconds',
    help: 'model time per score (prediction and explanation)',
    buckets: [5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 5e-4, 1e-3, 1e-2],
    registers: [metrics],
  });
  const latency = new Histogram({
    name: 'ehr_scoring_latency_seconds',
    help: 'from the feature vector being produced to its score being produced',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [metrics],
  });

  return {
    async handle(batch: RecordBatch): Promise<void> {
      vectors.inc(batch.records.length);
      const { accepted, rejected } = triage(batch.records, decodeFeatureVector, 'scoring');
      // One model for the whole batch: a swap takes effect between batches, never inside one.
      const model = models.current;
      const out = accepted.map(({ value }) => {
        const { score, inferenceMicros } = scoreVector(value, model, { topK, now });
        drift.observe(model, value.payload.features);
        scores.inc({ band: score.payload.band, mode: score.payload.mode });
        if (model) inference.observe(inferenceMicros / 1e6);
        latency.observe(score.payload.latencyMs / 1000);
        return { key: score.patientId, value: JSON.stringify(score) };
      });
      if (rejected.length > 0) {
        for (const d of rejected) deadLetters.inc({ reason: d.reason });
        logger.warn({ count: rejected.length, topic: batch.topic, partition: batch.partition }, 'dead-lettered feature vectors');
        await bus.produce(TOPICS.deadLetter, rejected.map((d) => ({ key: d.patientId ?? 'unknown', value: JSON.stringify(d) })));
      }
      await bus.produce(TOPICS.scores, out);
    },
  };
}
