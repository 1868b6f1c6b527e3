// Severity scores as the scoring service emits them, a fake clock, and a reader of the alerts
// topic, for the alerting tests.
import { randomUUID } from 'node:crypto';
import type { Bus, Subscription } from '@ehr/bus';
import { decodeAlertEvent, deterministicId, TOPICS, type AlertEvent, type SeverityBand, type SeverityScoreEvent } from '@ehr/features';

export const T0 = Date.parse('2026-03-02T08:00:00Z');
export const MIN = 60_000;

export interface ScoreSpec {
  patient: string;
  /** Minutes after T0. */
  minute: number;
  p: number | null;
  band?: SeverityBand;
  news2?: number | null;
  unit?: string | null;
  /** Hours since the last complete set of observations (default 0: taken with this score). */
  observedHoursAgo?: number | null;
}

export function scoreEvent(s: ScoreSpec): SeverityScoreEvent {
  const eventTime = new Date(T0 + s.minute * MIN).toISOString();
  const scoreId = deterministicId('test-score', s.patient, eventTime);
  const news2 = s.news2 === undefined ? 2 : s.news2;
  const since = s.observedHoursAgo === undefined ? 0 : s.observedHoursAgo;
  return {
    schema: 'severity_score',
    schemaVersion: 1,
    eventId: scoreId,
    patientId: s.patient,
    encounterId: `enc-${s.patient}`,
    occurredAt: eventTime,
    producedAt: eventTime,
    source: 'scoring-service',
    payload: {
      scoreId,
      featureEventId: deterministicId('test-vector', s.patient, eventTime),
      eventTime,
      scoredAt: eventTime,
      mode: s.p === null ? 'news2_only' : 'model',
      probability: s.p,
      band: s.band ?? 'medium',
      bandSource: 'model',
      news2,
      news2Band: news2 === null ? null : news2 >= 7 ? 'high' : news2 >= 5 ? 'medium' : 'low',
      model: s.p === null ? null : { name: 'test-model', version: '1' },
      features: since === null ? {} : { respiratory_rate_hours_since: since, spo2_hours_since: since, systolic_bp_hours_since: since, heart_rate_hours_since: since },
      topFeatures: [],
      latencyMs: 1,
      context: { unit: s.unit === undefined ? 'ward-a' : s.unit },
    },
  };
}

/** A clock the test moves by hand. */
export function fakeClock(start = T0) {
  let t = start;
  return {
    now: () => new Date(t),
    set: (ms: number) => void (t = ms),
    advance: (ms: number) => void (t += ms),
  };
}

export async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Publishes scores as the scoring service would, keyed by patient. */
export const sendScores = (client: Bus, specs: ScoreSpec[]) => client.produce(TOPICS.scores, specs.map((s) => ({ key: s.patient, value: JSON.stringify(scoreEvent(s)) })));

/** Pushes every alert event on the alerts topic into `events`, read by a throwaway group; an event that does not decode fails the test. */
export function collectAlerts(client: Bus, events: AlertEvent[]): Promise<Subscription> {
  return client.subscribe({
    groupId: `check-alerts-${randomUUID()}`,
    topics: [TOPICS.alerts],
    handler: async ({ records }) => {
      for (const r of records) {
        const e = decodeAlertEvent(r.value);
        if (!e.ok) throw new Error(e.error);
        events.push(e.value);
      }
    },
  });
}
