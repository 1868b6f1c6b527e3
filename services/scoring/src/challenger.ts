// A silent challenger: a second model scores every vector the served one scored, after the
// served scores are out. Its scores go to their own topic (ehr.shadow-scores.v1), which
// nothing that serves the ward reads; the sink lands them in shadow_scores. It can never
// break served scoring: a challenger that is missing, refused or throws is logged, makes
// readiness degraded (not critical) and is skipped.
import type { AlertPolicy } from '@ehr/alerts';
import type { Bus } from '@ehr/bus';
import { TOPICS, type FeatureVectorEvent, type SeverityScoreEvent } from '@ehr/features';
import { modelCard } from '@ehr/model';
import { Counter, errorMessage, Gauge, type DependencyStatus, type Logger, type Registry } from '@ehr/runtime';
import { createChallengerComparison, type ComparisonSummary } from './challenger-comparison.js';
import { ModelHolder } from './model-holder.js';
import { scoreVector } from './scorer.js';

export interface ChallengerDeps {
  path: string;
  bus: Bus;
  logger: Logger;
  metrics: Registry;
  /** Latest vectors the comparison covers. */
  window: number;
  /** The shipped alert policy the comparison counts alerts under. */
  policy: AlertPolicy;
  topK: number;
  now: () => Date;
  /** Largest artifact loaded (MODEL_MAX_BYTES; default a sixth of the heap). */
  maxBytes?: number;
}

/** How long a challenger that threw keeps readiness degraded after its last failure. */
const FAILURE_MEMORY_MS = 5 * 60_000;

export function createChallenger({ path, bus, logger, metrics, window, policy, topK, now, maxBytes }: ChallengerDeps) {
  const log = logger.child({ model: 'challenger' });
  const outcomes = new Counter({
    name: 'ehr_scoring_challenger_scores_total',
    help: 'vectors the challenger was offered, by result (scored, failed: it threw, skipped: no challenger loaded, unpublished: its scores could not be produced)',
    labelNames: ['result'],
    registers: [metrics],
  });
  const loads = new Counter({ name: 'ehr_scoring_challenger_loads_total', help: 'challenger model load attempts, by result', labelNames: ['result'], registers: [metrics] });
  const comparison = createChallengerComparison(window, policy);
  const holder = new ModelHolder(path, log, (event) => loads.inc({ result: event.kind }), 'the challenger is skipped', maxBytes);
  let lastFailure: { at: number; error: string; count: number } | null = null;

  // Computed at scrape time from the window, so the gauges always say what GET /model says.
  const gauge = (name: string, help: string, pick: (s: ComparisonSummary) => number | null) =>
    new Gauge({
      name,
      help,
      registers: [metrics],
      collect() {
        const value = pick(comparison.summary());
        if (value === null) this.reset();
        else this.set(value);
      },
    });
  gauge('ehr_scoring_challenger_band_agreement_ratio', 'share of the latest scored vectors where the challenger gives the served band', (s) => s.bandAgreement);
  gauge('ehr_scoring_challenger_abs_delta_probability_mean', 'mean |challenger − served probability| over the latest scored vectors', (s) => s.meanAbsDeltaProbability);
  gauge('ehr_scoring_challenger_probability_correlation', 'Pearson correlation of challenger and served probability over the latest scored vectors', (s) => s.correlation);
  new Gauge({
    name: 'ehr_scoring_challenger_window_alerts',
    help: 'deterioration alerts each model would have raised over the latest scored vectors, under the shipped alert policy',
    labelNames: ['model'],
    registers: [metrics],
    collect() {
      const { alerts } = comparison.summary();
      this.set({ model: 'served' }, alerts.served);
      this.set({ model: 'challenger' }, alerts.challenger);
    },
  });

  const failed = (err: unknown, count: number) => {
    const error = errorMessage(err);
    lastFailure = { at: now().getTime(), error, count: (lastFailure?.count ?? 0) + count };
    log.error({ err, vectors: count }, 'the challenger threw: its score is skipped, served scoring goes on');
  };

  return {
    models: holder,

    async start(watchIntervalMs: number | null): Promise<void> {
      await holder.loadInitial();
      if (watchIntervalMs !== null) holder.watch(watchIntervalMs);
    },

    stop(): void {
      holder.stopWatching();
    },

    /**
     * Scores the vectors the served model just scored (their scores already published),
     * publishes the shadow scores and adds each pair to the comparison. Never throws.
     */
    async shadow(scored: readonly { vector: FeatureVectorEvent; served: SeverityScoreEvent }[]): Promise<void> {
      if (scored.length === 0) return;
      const model = holder.current;
      if (!model) {
        outcomes.inc({ result: 'skipped' }, scored.length);
        return;
      }
      const pairs: { served: SeverityScoreEvent; shadow: SeverityScoreEvent }[] = [];
      let firstError: unknown = null;
      let failures = 0;
      for (const { vector, served } of scored) {
        try {
          pairs.push({ served, shadow: scoreVector(vector, model, { topK, now, role: 'shadow' }).score });
        } catch (err) {
          firstError ??= err;
          failures++;
        }
      }
      // One log line per batch, not per vector: a broken challenger must not flood the log.
      if (failures > 0) {
        failed(firstError, failures);
        outcomes.inc({ result: 'failed' }, failures);
      }
      if (pairs.length === 0) return;
      try {
        await bus.produce(
          TOPICS.shadowScores,
          pairs.map(({ shadow }) => ({ key: shadow.patientId, value: JSON.stringify(shadow) })),
        );
      } catch (err) {
        outcomes.inc({ result: 'unpublished' }, pairs.length);
        log.warn({ err, scores: pairs.length }, 'shadow scores could not be published: skipped (served scores are out)');
        return;
      }
      outcomes.inc({ result: 'scored' }, pairs.length);
      for (const { served, shadow } of pairs) comparison.observe(served, shadow);
    },

    /** Readiness (not critical): up while a challenger is loaded and has not thrown lately. */
    status(): DependencyStatus {
      const model = holder.current;
      if (!model) return { state: 'degraded', detail: `${holder.error ?? 'no challenger loaded'}: challenger skipped` };
      if (lastFailure && now().getTime() - lastFailure.at < FAILURE_MEMORY_MS) {
        return { state: 'degraded', detail: `challenger ${model.name}@${model.version} threw on ${lastFailure.count} vector(s), latest: ${lastFailure.error}` };
      }
      return { state: 'up', detail: `challenger ${model.name}@${model.version}` };
    },

    /** The challenger section of GET /model: what it is, and how it compares on the live stream. */
    report() {
      const model = holder.current;
      return {
        configured: true,
        loaded: model !== null,
        path,
        name: model?.name ?? null,
        version: model?.version ?? null,
        contentHash: model?.contentHash ?? null,
        card: model ? modelCard(model.artifact) : null,
        error: holder.error,
        lastFailure: lastFailure ? { at: new Date(lastFailure.at).toISOString(), error: lastFailure.error, vectors: lastFailure.count } : null,
        comparison: comparison.summary(),
      };
    },
  };
}

export type Challenger = ReturnType<typeof createChallenger>;
