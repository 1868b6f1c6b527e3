// Valid severity_score messages for tests and the benchmark, deterministic from (run, index),
// and the small things every sink test needs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRandom, decodeAlertEvent, deterministicId, decodeSeverityScore, TOPICS, type AlertEvent, type AlertEventType, type DeadLetter, type SeverityScoreEvent } from '@ehr/features';
import { alertRow, scoreRow, type DuckDbWarehouse, type LandBatch, type LandResult, type Warehouse } from '../src/index.js';

export interface ScoreOptions {
  /** Distinguishes runs: the same (run, i) always gives the same score id. */
  run?: string;
  patients?: number;
  /** Base of event times, epoch ms. */
  baseTime?: number;
}

export function makeScore(i: number, { run = 'r1', patients = 50, baseTime = Date.UTC(2025, 0, 1) }: ScoreOptions = {}): SeverityScoreEvent {
  let seed = i + 1;
  for (const ch of run) seed = (seed * 31 + ch.charCodeAt(0)) >>> 0;
  const rng = createRandom(seed);
  const rand = () => rng.next();
  const scoreId = deterministicId('test-score', run, i);
  const eventTime = new Date(baseTime + i * 1000).toISOString();
  const probability = Math.round(rand() * 1e6) / 1e6;
  const news2 = Math.floor(rand() * 12);
  const patient = `p${i % patients}`;
  const event: SeverityScoreEvent = {
    schema: 'severity_score',
    schemaVersion: 1,
    eventId: scoreId,
    patientId: patient,
    encounterId: `e${i % patients}`,
    occurredAt: eventTime,
    producedAt: new Date(baseTime + i * 1000 + 50).toISOString(),
    source: 'scoring-service',
    payload: {
      scoreId,
      featureEventId: deterministicId('test-feature', run, i),
      eventTime,
      scoredAt: new Date(baseTime + i * 1000 + 40).toISOString(),
      mode: 'model',
      probability,
      band: probability > 0.7 ? 'high' : probability > 0.3 ? 'medium' : 'low',
      bandSource: 'model',
      bandReason: `model risk ${Math.round(probability * 100)} %`,
      news2,
      news2Band: news2 >= 7 ? 'high' : news2 >= 5 ? 'medium' : news2 > 0 ? 'low_medium' : 'low',
      model: { name: 'severity-rf', version: '1.0.0' },
      features: { heart_rate: 60 + Math.round(rand() * 60), resp_rate: 12 + Math.round(rand() * 10), spo2: 90 + Math.round(rand() * 10), lactate: null },
      topFeatures: [
        { feature: 'heart_rate', value: 88, contribution: 0.12 },
        { feature: 'spo2', value: 93, contribution: -0.04 },
      ],
      latencyMs: Math.round(rand() * 200) / 10,
      context: { unit: `ward-${i % 4}`, department: null },
    },
  };
  const check = decodeSeverityScore(JSON.stringify(event));
  if (!check.ok) throw new Error(`test score is invalid: ${check.error}`);
  return event;
}

export const scoreMessage = (event: SeverityScoreEvent) => ({ key: event.patientId, value: JSON.stringify(event) });

/** A warehouse batch of scores at offsets from..to of one partition, as a sink would cut it. */
export function scoreBatch(
  from: number,
  to: number,
  expected: bigint,
  { run = 'r1', cluster = 'cluster-a', partition = 0, topic = TOPICS.scores, score = makeScore }: { run?: string; cluster?: string; partition?: number; topic?: string; score?: typeof makeScore } = {},
): LandBatch {
  const scores = [];
  for (let i = from; i <= to; i++) {
    scores.push(scoreRow(cluster, { topic, partition, offset: String(i), timestamp: Date.UTC(2025, 0, 1) }, score(i, { run })));
  }
  return { cluster, topic, partition, expectedLastOffset: expected, firstOffset: BigInt(from), lastOffset: BigInt(to), records: to - from + 1, scores, deadLetters: [] };
}

/**
 * A scores table of `rows` rows, as a live feed leaves them: one landed score (offset 0 of
 * partition 0), then `rows - 1` copies of it by SQL, with new ids and times one second apart
 * going back from it. Cheap enough for millions of rows (bench/dedupe.ts).
 */
export async function fillScores(warehouse: Warehouse, rows: number, baseTime: number): Promise<void> {
  await warehouse.land(scoreBatch(0, 0, -1n, { run: 'seed', score: (i, o) => makeScore(i, { ...o, baseTime }) }));
  if (rows > 1) {
    await warehouse.read(
      `INSERT INTO severity_scores SELECT s.* REPLACE (uuid()::VARCHAR AS score_id, event_time - to_seconds(r + 1) AS event_time) FROM (SELECT * FROM severity_scores LIMIT 1) s, range(${rows - 1}) t(r)`,
    );
  }
  await warehouse.read('CHECKPOINT');
}

/**
 * A valid alert event, deterministic from (run, i): alert `a<i div 3>` of the run goes raised,
 * acknowledged, then dismissed (i mod 3), so a run of 3n events is n alerts, each acknowledged
 * after i seconds and then dismissed.
 */
export function makeAlert(i: number, { run = 'r1', baseTime = Date.UTC(2025, 0, 1) }: { run?: string; baseTime?: number } = {}): AlertEvent {
  const n = Math.floor(i / 3);
  const type: AlertEventType = (['raised', 'acknowledged', 'dismissed'] as const)[i % 3]!;
  const alertId = deterministicId('test-alert', run, n);
  const raisedAt = baseTime + n * 60_000;
  const at = type === 'raised' ? raisedAt : type === 'acknowledged' ? raisedAt + (n + 1) * 1000 : raisedAt + 50_000;
  const event: AlertEvent = {
    schema: 'alert_event',
    schemaVersion: 1,
    eventId: deterministicId('alert-event', alertId, type),
    patientId: `p${n % 7}`,
    encounterId: `e${n % 7}`,
    occurredAt: new Date(at).toISOString(),
    producedAt: new Date(at + 5).toISOString(),
    source: 'alerting-service',
    payload: {
      alertId,
      type,
      kind: 'deterioration',
      severity: n % 2 === 0 ? 'high' : 'medium',
      status: type === 'raised' ? 'open' : type,
      raisedAt: new Date(raisedAt).toISOString(),
      unit: `ward-${n % 2}`,
      policy: { name: 'default', version: '1' },
      scoreId: type === 'raised' ? deterministicId('test-score', run, n) : null,
      probability: 0.5,
      news2: 6,
      reason: type === 'raised' ? 'probability 0.50 at or above 0.02' : type,
      escalateAt: type === 'raised' && n % 2 === 0 ? new Date(raisedAt + 30 * 60_000).toISOString() : null,
      supersedes: null,
      dismissReason: type === 'dismissed' ? 'already_managed' : null,
      resolveReason: null,
      actor: type === 'raised' ? null : 'nurse-17',
      secondsToAcknowledge: type === 'acknowledged' ? n + 1 : null,
      overdue: null,
    },
  };
  const check = decodeAlertEvent(JSON.stringify(event));
  if (!check.ok) throw new Error(`test alert event is invalid: ${check.error}`);
  return event;
}

export const alertMessage = (event: AlertEvent) => ({ key: event.patientId, value: JSON.stringify(event) });

/** A warehouse batch of alert events at offsets from..to of one partition of ehr.alerts.v1. */
export function alertBatch(from: number, to: number, expected: bigint, { run = 'r1', cluster = 'cluster-a', partition = 0 }: { run?: string; cluster?: string; partition?: number } = {}): LandBatch {
  const alerts = [];
  for (let i = from; i <= to; i++) alerts.push(alertRow(cluster, { topic: TOPICS.alerts, partition, offset: String(i), timestamp: Date.UTC(2025, 0, 1) }, makeAlert(i, { run })));
  return { cluster, topic: TOPICS.alerts, partition, expectedLastOffset: expected, firstOffset: BigInt(from), lastOffset: BigInt(to), records: to - from + 1, scores: [], deadLetters: [], alerts };
}

export function tempDir(prefix = 'sink-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A counter or gauge from Prometheus text: the sum over series whose labels include `labels`. */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^[^{\s]+(?:\{([^}]*)\})?\s+(\S+)$/.exec(line);
    if (!m) continue;
    const have = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[2]);
  }
  return sum;
}

/**
 * The real DuckDB warehouse behind a test's fault switch: every call goes through to it, so a
 * test's warehouse overrides only the calls its fault touches.
 */
export class WarehouseWrapper implements Warehouse {
  readonly kind = 'duckdb' as const;
  constructor(
    readonly inner: DuckDbWarehouse,
    readonly description: string,
  ) {}
  init() {
    return this.inner.init();
  }
  landedOffsets(cluster: string, topic: string) {
    return this.inner.landedOffsets(cluster, topic);
  }
  land(batch: LandBatch): Promise<LandResult> {
    return this.inner.land(batch);
  }
  ping() {
    return this.inner.ping();
  }
  read(sql: string, params?: readonly (string | number | null)[]) {
    return this.inner.read(sql, params);
  }
  close() {
    return this.inner.close();
  }
}

/** The feature service's dead letter for a raw record it could not read (overrides for what a test varies). */
export const featureDeadLetter = (overrides: Partial<DeadLetter> = {}): DeadLetter => ({
  schema: 'dead_letter',
  schemaVersion: 1,
  eventId: 'dl-feature-1',
  patientId: 'p1',
  originalEventId: null,
  producedAt: '2025-01-01T00:00:00.000Z',
  service: 'feature',
  reason: 'schema_invalid',
  error: 'bad',
  details: [],
  sourceTopic: TOPICS.events,
  sourcePartition: 0,
  sourceOffset: '7',
  originalKey: 'p1',
  originalBytes: Buffer.from('{').toString('base64'),
  ...overrides,
});
