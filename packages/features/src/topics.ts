// The only place topic names are spelled. Services import these constants.
export const TOPICS = {
  /** Raw clinical events from every source (synthetic, MEDS replay, FHIR, CSV). */
  events: 'ehr.events.v1',
  /** Feature vectors emitted by the feature service when a patient's picture changes. */
  features: 'ehr.features.v1',
  /** Severity scores (model + NEWS2) emitted by the scoring service. */
  scores: 'ehr.scores.v1',
  /**
   * A challenger model's scores, scored beside the served ones (CHALLENGER_MODEL_PATH): a
   * topic of their own so that nothing that serves the ward (dashboard, alerting) can read
   * them by accident; only the sink lands them, in shadow_scores.
   */
  shadowScores: 'ehr.shadow-scores.v1',
  /** Anything any service rejected, with the reason and the original bytes. */
  deadLetter: 'ehr.deadletter.v1',
  /** Compacted per-patient state changelog of the feature service. */
  featureState: 'ehr.feature-state.v1',
  /** Alert events (raised, acknowledged, dismissed, escalated, resolved) of the alerting service. */
  alerts: 'ehr.alerts.v1',
  /** Compacted per-patient alert state of the alerting service (restored at start). */
  alertState: 'ehr.alert-state.v1',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

export const ALL_TOPICS: readonly TopicName[] = Object.values(TOPICS);

/** Topics whose log is compacted (latest value per key) rather than deleted by time. */
export const COMPACTED_TOPICS: ReadonlySet<TopicName> = new Set([TOPICS.featureState, TOPICS.alertState]);
