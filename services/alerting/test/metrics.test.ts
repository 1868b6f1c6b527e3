// Time to acknowledge and the share of alerts acknowledged, as metrics: the share counts every
// closed alert, so an alert dismissed without an acknowledgement lowers it (a gauge stuck at 1
// would pass a test with acknowledged alerts only).
import { MemoryBroker, MemoryBus } from '@ehr/bus';
import { TOPICS } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createAlertingService, loadConfig } from '../src/index.js';
import { fakeClock, MIN, scoreEvent, T0, waitFor } from './fixtures.js';

const logger = createLogger({ service: 'alerting', level: 'silent' });

/** The value of one series of `name` whose labels include all of `labels` (Prometheus text). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([^{\s]+)(?:\{([^}]*)\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) return Number(m[3]);
  }
  return undefined;
}

describe('acknowledgement metrics', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('observes time to acknowledge, and the share acknowledged falls when an alert closes unacknowledged', async () => {
    const broker = new MemoryBroker();
    const clock = fakeClock(T0);
    const service = createAlertingService({ config: loadConfig({ ALERTING_POLICY: 'news2-ge5', KAFKA_TOPIC_PARTITIONS: '1' }), logger, bus: new MemoryBus({ broker }), now: clock.now, manualClock: true });
    await service.start();
    cleanup.push(async () => {
      await service.stop();
      await service.app.close();
    });
    await new MemoryBus({ broker }).produce(
      TOPICS.scores,
      ['p1', 'p2'].map((patient) => ({ key: patient, value: JSON.stringify(scoreEvent({ patient, minute: 0, p: null, news2: 6 })) })),
    );
    await waitFor(() => service.engine.openAlerts().length === 2, 'two alerts');
    const id = (patient: string) => service.engine.openAlerts().find((a) => a.patientId === patient)!.alertId;
    const [first, second] = [id('p1'), id('p2')];
    const post = (url: string, payload: object) => service.app.inject({ method: 'POST', url, payload });

    clock.set(T0 + 2 * MIN);
    expect((await post(`/alerts/${first}/acknowledge`, { by: 'nurse-17' })).statusCode).toBe(200);
    expect((await post(`/alerts/${first}/dismiss`, { reason: 'already_managed' })).statusCode).toBe(200);
    let text = (await service.app.inject('/metrics')).body;
    expect(sample(text, 'ehr_alerting_time_to_acknowledge_seconds_count', { kind: 'deterioration' })).toBe(1);
    expect(sample(text, 'ehr_alerting_time_to_acknowledge_seconds_sum', { kind: 'deterioration' })).toBe(120);
    expect(sample(text, 'ehr_alerting_time_to_acknowledge_seconds_bucket', { le: '60' })).toBe(0);
    expect(sample(text, 'ehr_alerting_time_to_acknowledge_seconds_bucket', { le: '120' })).toBe(1);
    expect(sample(text, 'ehr_alerting_acknowledged_ratio')).toBe(1);

    expect((await post(`/alerts/${second}/dismiss`, { reason: 'measurement_error' })).statusCode).toBe(200);
    text = (await service.app.inject('/metrics')).body;
    expect(sample(text, 'ehr_alerting_acknowledged_ratio')).toBe(0.5);
    expect(sample(text, 'ehr_alerting_alerts_closed_total', { acknowledged: 'true' })).toBe(1);
    expect(sample(text, 'ehr_alerting_alerts_closed_total', { acknowledged: 'false' })).toBe(1);
    expect(sample(text, 'ehr_alerting_time_to_acknowledge_seconds_count', { kind: 'deterioration' })).toBe(1);
  });
});

describe('scores from another model than the policy was tuned for', () => {
  it("warn once per model and are counted: the policy's probability thresholds are another model's", async () => {
    let logs = '';
    const captured = createLogger({ service: 'alerting', level: 'warn', destination: new Writable({ write: (c: Buffer, _e, done) => void ((logs += c.toString()), done()) }) });
    const broker = new MemoryBroker();
    const service = createAlertingService({ config: loadConfig({ ALERTING_POLICY: 'default', KAFKA_TOPIC_PARTITIONS: '1' }), logger: captured, bus: new MemoryBus({ broker }), now: fakeClock(T0).now, manualClock: true });
    await service.start();
    try {
      expect((await service.app.inject('/policy')).json().tunedFor).toEqual({ name: 'severity-rf-physionet', version: 'babcd3ef6717' });
      // The fixtures' scores come from test-model@1; NEWS2-only scores (p null) have no model to compare.
      await new MemoryBus({ broker }).produce(
        TOPICS.scores,
        [0, 60, 120].map((minute) => ({ key: 'p1', value: JSON.stringify(scoreEvent({ patient: 'p1', minute, p: 0.01 })) })).concat([{ key: 'p2', value: JSON.stringify(scoreEvent({ patient: 'p2', minute: 0, p: null })) }]),
      );
      const text = async () => (await service.app.inject('/metrics')).body;
      await waitFor(async () => sample(await text(), 'ehr_alerting_scores_total', { outcome: 'applied' }) === 4, 'four scores applied');
      expect(sample(await text(), 'ehr_alerting_scores_other_model_total')).toBe(3);
      const warnings = logs.split('\n').filter((l) => l.includes('tuned for another model'));
      expect(warnings).toHaveLength(1);
      expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 'warn', tunedFor: 'severity-rf-physionet@babcd3ef6717', scoredBy: 'test-model@1', policy: 'default@3' });
    } finally {
      await service.stop();
      await service.app.close();
    }
  });
});
