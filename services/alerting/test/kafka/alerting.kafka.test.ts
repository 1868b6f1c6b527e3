import { createBus, KafkaBus } from '@ehr/bus';
import { TOPICS, type AlertEvent } from '@ehr/features';
import type {} from '@ehr/kafka-local/vitest';
import { createLogger } from '@ehr/runtime';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAlertingService, loadConfig } from '../../src/index.js';
import { collectAlerts, fakeClock, MIN, sendScores, T0, waitFor, type ScoreSpec } from '../fixtures.js';

const logger = createLogger({ service: 'alerting-test', level: 'error' });
const prefix = `alerting-test-${process.pid}-${Date.now()}.`;

describe('alerting service on a real broker', () => {
  const env = () => ({ KAFKA_BROKERS: inject('kafkaBrokers'), KAFKA_TOPIC_PREFIX: prefix, KAFKA_TOPIC_PARTITIONS: '3', ALERTING_POLICY: 'default', ALERTING_RESTORE_TIMEOUT_MS: '60000' });
  let client: KafkaBus;
  const events: AlertEvent[] = [];

  beforeAll(async () => {
    client = new KafkaBus({ brokers: inject('kafkaBrokers').split(','), clientId: 'alerting-test-client', logger, topicPrefix: prefix });
    await client.connect();
    await client.ensureTopics([TOPICS.scores, TOPICS.alerts].map((topic) => ({ topic, partitions: 3 })));
    await collectAlerts(client, events);
  }, 180_000);

  afterAll(async () => {
    await client?.close();
  });

  const send = (specs: ScoreSpec[]) => sendScores(client, specs);

  it('raises one alert per patient, restores them from the compacted changelog after a restart, and never publishes an id twice with different contents', async () => {
    const clock = fakeClock(T0 + 10 * MIN);
    const boot = () => {
      const config = loadConfig(env());
      return createAlertingService({ config, logger, bus: createBus(config, { clientId: 'alerting-service', logger }), now: clock.now, manualClock: true });
    };
    // Three scores far above the shipped policy's enter threshold (it asks for at most three in a row).
    const patients = Array.from({ length: 12 }, (_, i) => `kafka-p${i}`);
    const first = boot();
    await first.start();
    try {
      await send(patients.flatMap((patient) => [0, 1, 2].map((minute) => ({ patient, minute, p: 0.5, band: 'high' as const }))));
      await waitFor(() => events.filter((e) => e.payload.type === 'raised').length >= patients.length, 'a raised alert per patient', 120_000);
      const one = events.find((e) => e.patientId === patients[0])!;
      const ack = await first.app.inject({ method: 'POST', url: `/alerts/${one.payload.alertId}/acknowledge`, payload: { by: 'nurse-1' } });
      expect(ack.statusCode).toBe(200);
    } finally {
      await first.stop();
      await first.app.close();
    }
    const before = new Map(events.map((e) => [e.eventId, e.payload.type]));

    const second = boot();
    await second.start();
    try {
      const listed = (await second.app.inject('/alerts')).json();
      expect(listed.count).toBe(patients.length);
      expect(listed.alerts.filter((a: { status: string }) => a.status === 'acknowledged')).toHaveLength(1);
      // Escalation of the eleven unacknowledged high alerts, then every patient recovers.
      clock.set(T0 + 45 * MIN);
      await second.tick();
      await send(patients.map((patient) => ({ patient, minute: 60, p: 0.001, band: 'low' })));
      await waitFor(() => events.filter((e) => e.payload.type === 'resolved').length >= patients.length, 'every alert resolved', 120_000);
      expect(events.filter((e) => e.payload.type === 'escalated')).toHaveLength(patients.length - 1);
      expect((await second.app.inject('/alerts')).json().count).toBe(0);
    } finally {
      await second.stop();
      await second.app.close();
    }
    // One raised, at most one escalated or acknowledged, one resolved per patient: ids never reused for another event.
    const byId = new Map<string, string>();
    for (const e of events) {
      expect(byId.get(e.eventId) ?? e.payload.type, e.eventId).toBe(e.payload.type);
      byId.set(e.eventId, e.payload.type);
    }
    for (const [id, type] of before) expect(byId.get(id)).toBe(type);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(patients.length * 3);
  });
});
