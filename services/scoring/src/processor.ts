import type { Bus, RecordBatch, RecordIsolation } from '@ehr/bus';
import { buildDeadLetter, decodeFeatureVector, encodeSeverityScore, FEATURE_SET_VERSION, TOPICS, triage, type DeadLetter, type FeatureVectorEvent } from '@ehr/features';
import { Counter, Histogram, type Logger, type Registry } from '@ehr/runtime';
import type { Challenger } from './challenger.js';
import type { DriftMonitor } from './drift.js';
import type { ModelHolder } from './model-holder.js';
import { featureSetMismatch, news2Implausible, scoreVector, type ScoredVector } from './scorer.js';

export interface ScoringProcessorDeps {
  bus: Bus;
  logger: Logger;
  metrics: Registry;
  models: ModelHolder;
  drift: DriftMonitor;
  topK: number;
  /** Isolates a vector whose scoring throws (dead-lettered as processing_error after its attempts). */
  isolation: RecordIsolation;
  /** A silent second model (CHALLENGER_MODEL_PATH), scored after the served scores are out. */
  challenger?: Challenger | null;
  now?: () => Date;
}

/** Feature vectors in, severity scores out (dead letters for what cannot be read). */
export function createScoringProcessor({ bus, logger, metrics, models, drift, topK, isolation, challenger = null, now = () => new Date() }: ScoringProcessorDeps) {
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
      const { accepted, rejected } = triage(batch.records, decodeFeatureVector, 'scoring');
      // One model for the whole batch: a swap takes effect between batches, never inside one.
      const model = models.current;
      // Without a model NEWS2 reads the served set's names, so that is the set to match.
      const expected = model?.featureSchemaVersion ?? FEATURE_SET_VERSION;
      const letters: DeadLetter[] = [...rejected];
      const scored: { vector: FeatureVectorEvent; result: ScoredVector }[] = [];
      for (const { record, value } of accepted) {
        const ids = { patientId: value.patientId, originalEventId: value.eventId };
        const verdict = isolation.verdict(record);
        if (verdict.isolate) {
          letters.push(buildDeadLetter(record, { service: 'scoring', reason: 'processing_error', error: `threw on each of ${verdict.attempts} attempts: ${verdict.error}`, ...ids }));
          continue;
        }
        const mismatch = featureSetMismatch(value, expected, { complete: true });
        if (mismatch) {
          letters.push(buildDeadLetter(record, { service: 'scoring', reason: 'feature_set_mismatch', ...mismatch, ...ids }));
          continue;
        }
        const implausible = news2Implausible(value);
        if (implausible) {
          letters.push(buildDeadLetter(record, { service: 'scoring', reason: 'implausible_value', ...implausible, ...ids }));
          continue;
        }
        // A throw redelivers the batch (nothing of it was produced yet), counted against this record.
        scored.push({ vector: value, result: isolation.run(record, () => scoreVector(value, model, { topK, now })) });
      }
      if (letters.length > 0) {
        logger.warn({ count: letters.length, topic: batch.topic, partition: batch.partition }, 'dead-lettered feature vectors (see ehr_scoring_dead_letters_total by reason)');
        await bus.produce(TOPICS.deadLetter, letters.map((d) => ({ key: d.patientId ?? 'unknown', value: JSON.stringify(d) })));
      }
      await bus.produce(
        TOPICS.scores,
        scored.map(({ result }) => ({ key: result.score.patientId, value: encodeSeverityScore(result.score) })),
      );
      isolation.settled(batch.records);
      // Counted once the output is out, so that a redelivered batch is not counted twice.
      vectors.inc(batch.records.length);
      for (const d of letters) deadLetters.inc({ reason: d.reason });
      for (const { result } of scored) {
        drift.observe(model, result.row);
        scores.inc({ band: result.score.payload.band, mode: result.score.payload.mode });
        if (model) inference.observe(result.inferenceMicros / 1e6);
        latency.observe(result.score.payload.latencyMs / 1000);
      }
      // Last, once the served scores are out: the challenger can add time, never delay or stop them.
      if (challenger) await challenger.shadow(scored.map(({ vector, result }) => ({ vector, served: result.score })));
    },
  };
}
