import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeBudgetUse, type AlertPolicy } from '@ehr/alerts';
import { MemoryBroker, MemoryBus, type Bus } from '@ehr/bus';
import { decodeDeadLetter, TOPICS, type AlertEvent, type DeadLetter } from '@ehr/features';
import { createLogger, specMismatches } from '@ehr/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { createAlertingService, loadConfig, policyFrom } from '../src/index.js';
import { collectAlerts, fakeClock, MIN, scoreEvent, sendScores, T0, waitFor, type ScoreSpec } from './fixtures.js';

const logger = createLogger({ service: 'alerting', level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'alerting-'));

const POLICY: AlertPolicy = {
  name: 'ward-test',
  version: '3',
  description: 'test policy',
  deterioration: { signal: 'probability', enter: 0.2, exit: 0.1, persistence: 2, reAlert: { rise: 0.1, withinHours: 12 }, news2Floor: null },
  budget: { perUnitPerDay: 5, timeZone: 'UTC', highBypasses: true },
  escalation: { afterMinutes: 30, severities: ['high'] },
  overdue: { enabled: true, graceMinutes: 15, intervalHours: { news2Zero: 12, news2Low: 6, singleParameterThree: 1, news2Medium: 1, news2High: 1 } },
  staleAfterHours: 24,
};
const policyPath = join(dir, 'policy.json');
writeFileSync(policyPath, JSON.stringify(POLICY));

type Service = ReturnType<typeof createAlertingService>;

describe('alerting service', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  /** A service on the broker, with a fake clock and a hand-turned tick. */
  async function start(broker: MemoryBroker, clock: ReturnType<typeof fakeClock>, bus: Bus = new MemoryBus({ broker }), env: Record<string, string> = {}): Promise<Service> {
    const config = loadConfig({ ALERTING_POLICY: policyPath, ALERTING_TICK_MS: '1000', KAFKA_TOPIC_PARTITIONS: '3', ...env });
    const service = createAlertingService({ config, logger, bus, now: clock.now, manualClock: true });
    await service.start();
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      await service.stop();
      await service.app.close();
    };
    cleanup.push(stop);
    return Object.assign(service, { stop });
  }

  /** Everything on the alerts topic and the dead-letter topic, read by a client of its own. */
  async function watch(broker: MemoryBroker) {
    const client = new MemoryBus({ broker });
    await client.ensureTopics([TOPICS.scores, TOPICS.alerts, TOPICS.deadLetter].map((topic) => ({ topic, partitions: 3 })));
    const events: AlertEvent[] = [];
    const dead: DeadLetter[] = [];
    const subs = [
      await collectAlerts(client, events),
      await client.subscribe({
        groupId: `check-dead-${randomUUID()}`,
        topics: [TOPICS.deadLetter],
        handler: async ({ records }) => {
          for (const r of records) {
            const d = decodeDeadLetter(r.value);
            if (d.ok) dead.push(d.value);
          }
        },
      }),
    ];
    cleanup.push(async () => {
      for (const s of subs) await s.stop();
      await client.close();
    });
    const send = (...specs: ScoreSpec[]) => sendScores(client, specs);
    return { client, events, dead, send };
  }

  const ofType = (events: AlertEvent[], type: string) => events.filter((e) => e.payload.type === type);

  it('raises an alert after two scores above enter, lists it, and lets a clinician acknowledge and dismiss it over HTTP', async () => {
    const broker = new MemoryBroker();
    const clock = fakeClock(T0 + 5 * MIN);
    const { events, send } = await watch(broker);
    const service = await start(broker, clock);
    expect((await service.app.inject('/health/ready')).json().status).toBe('ready');

    await send({ patient: 'p1', minute: 0, p: 0.25 }, { patient: 'p1', minute: 1, p: 0.3 }, { patient: 'p2', minute: 0, p: 0.05 });
    await waitFor(() => events.length === 1, 'the raised event');
    const raised = events[0]!;
    expect(raised).toMatchObject({ schema: 'alert_event', patientId: 'p1', source: 'alerting-service', occurredAt: new Date(T0 + MIN).toISOString() });
    expect(raised.payload).toMatchObject({ type: 'raised', kind: 'deterioration', status: 'open', severity: 'medium', unit: 'ward-a', policy: { name: 'ward-test', version: '3' }, probability: 0.3 });

    const list = (await service.app.inject('/alerts')).json();
    expect(list).toMatchObject({ policy: { name: 'ward-test', version: '3' }, count: 1, budgets: [{ unit: 'ward-a', day: '2026-03-02', used: 1, limit: 5 }] });
    expect(list.dismissReasons).toContain('already_managed');
    expect(list.alerts[0]).toMatchObject({ alertId: raised.payload.alertId, patientId: 'p1', status: 'open', kind: 'deterioration', actions: { acknowledge: `/alerts/${raised.payload.alertId}/acknowledge` } });
    expect((await service.app.inject('/alerts?unit=ward-b')).json().count).toBe(0);
    expect((await service.app.inject('/alerts?kind=observations_overdue')).json().count).toBe(0);
    expect((await service.app.inject('/alerts?kind=everything')).statusCode).toBe(400);
    // A misspelled filter is refused, naming it, rather than answered with every alert.
    const typo = await service.app.inject('/alerts?sevrity=high');
    expect([typo.statusCode, typo.json().detail]).toEqual([400, expect.stringContaining('"sevrity"')]);
    expect((await service.app.inject(`/alerts/${raised.payload.alertId}`)).json().patientId).toBe('p1');

    clock.advance(4 * MIN);
    const ack = await service.app.inject({ method: 'POST', url: `/alerts/${raised.payload.alertId}/acknowledge`, payload: { by: 'nurse-17' } });
    expect(ack.statusCode).toBe(200);
    expect(ack.json()).toMatchObject({ unchanged: false, event: { payload: { type: 'acknowledged', actor: 'nurse-17', secondsToAcknowledge: 480 } }, alert: { status: 'acknowledged' } });
    const again = await service.app.inject({ method: 'POST', url: `/alerts/${raised.payload.alertId}/acknowledge` });
    expect(again.statusCode).toBe(200);
    expect(again.json().unchanged).toBe(true);
    expect(again.json().event.eventId).toBe(ack.json().event.eventId);

    expect((await service.app.inject({ method: 'POST', url: `/alerts/${raised.payload.alertId}/dismiss`, payload: { reason: 'boring' } })).statusCode).toBe(400);
    expect((await service.app.inject({ method: 'POST', url: `/alerts/${raised.payload.alertId}/dismiss`, payload: {} })).statusCode).toBe(400);
    const dismissed = await service.app.inject({ method: 'POST', url: `/alerts/${raised.payload.alertId}/dismiss`, payload: { reason: 'already_managed', by: 'dr-2' } });
    expect(dismissed.statusCode).toBe(200);
    expect(dismissed.json().event.payload).toMatchObject({ type: 'dismissed', status: 'dismissed', dismissReason: 'already_managed', actor: 'dr-2' });
    expect((await service.app.inject('/alerts')).json().count).toBe(0);
    const late = await service.app.inject({ method: 'POST', url: `/alerts/${raised.payload.alertId}/acknowledge` });
    expect(late.statusCode).toBe(409);
    expect(late.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(late.json()).toMatchObject({ type: 'tag:ehr-pipeline,2026:problem:alert-closed', status: 409, alertStatus: 'dismissed', dismissReason: 'already_managed' });
    const unknown = await service.app.inject({ method: 'POST', url: '/alerts/no-such-alert/acknowledge' });
    expect([unknown.statusCode, unknown.json().type]).toEqual([404, 'tag:ehr-pipeline,2026:problem:alert-not-found']);
    const badId = await service.app.inject({ method: 'POST', url: '/alerts/not%20an%20id/acknowledge' });
    expect([badId.statusCode, badId.headers['content-type'], badId.json().type]).toEqual([400, 'application/problem+json; charset=utf-8', 'tag:ehr-pipeline,2026:problem:invalid-request']);
    const badReason = await service.app.inject({ method: 'POST', url: `/alerts/${raised.payload.alertId}/dismiss`, payload: { reason: 'bored' } });
    expect(badReason.json()).toMatchObject({ type: 'tag:ehr-pipeline,2026:problem:invalid-body', status: 400, reasons: expect.arrayContaining(['already_managed']) });

    await waitFor(() => events.length === 3, 'acknowledged and dismissed events');
    expect(events.map((e) => e.payload.type)).toEqual(['raised', 'acknowledged', 'dismissed']);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(3);

    const metrics = (await service.app.inject('/metrics')).body;
    expect(metrics).toMatch(/ehr_alerting_time_to_acknowledge_seconds_count\{[^}]*kind="deterioration"[^}]*\} 1/);
    expect(metrics).toMatch(/ehr_alerting_acknowledged_ratio\{[^}]*\} 1/);
    expect(metrics).toMatch(/ehr_alerting_alert_events_total\{[^}]*type="raised"[^}]*\} 1/);
    expect((await service.app.inject('/policy')).json().name).toBe('ward-test');
    expect((await service.app.inject('/openapi.json')).json().paths).toHaveProperty('/alerts/{id}/dismiss');
    expect(await specMismatches(service.app)).toEqual({ undocumented: [], phantom: [] });
  });

  it("raises nothing from a challenger's shadow scores (ehr.shadow-scores.v1): alerts follow the served model only", async () => {
    const broker = new MemoryBroker();
    const clock = fakeClock(T0 + 5 * MIN);
    const { client, events, send } = await watch(broker);
    const service = await start(broker, clock);
    await client.ensureTopics([{ topic: TOPICS.shadowScores, partitions: 3 }]);
    // The challenger sees p1 above enter twice; the served model does not (until p2 shows the service is live).
    const shadow = [0, 1].map((minute) => scoreEvent({ patient: 'p1', minute, p: 0.9 }));
    await client.produce(TOPICS.shadowScores, shadow.map((e) => ({ key: e.patientId, value: JSON.stringify({ ...e, eventId: `shadow-${e.eventId}`, payload: { ...e.payload, scoreId: `shadow-${e.payload.scoreId}` } }) })));
    await send({ patient: 'p1', minute: 0, p: 0.05 }, { patient: 'p1', minute: 1, p: 0.05 }, { patient: 'p2', minute: 0, p: 0.25 }, { patient: 'p2', minute: 1, p: 0.3 });
    await waitFor(() => events.length === 1, 'the served alert');
    await new Promise((r) => setTimeout(r, 100));
    expect(events.map((e) => [e.patientId, e.payload.type])).toEqual([['p2', 'raised']]);
    expect((await service.app.inject('/alerts')).json().alerts.map((a: { patientId: string }) => a.patientId)).toEqual(['p2']);
  });

  it('escalates an unacknowledged high alert on its clock, at raised + 30 min, once', async () => {
    const broker = new MemoryBroker();
    const clock = fakeClock(T0 + 2 * MIN);
    const { events, send } = await watch(broker);
    const service = await start(broker, clock);
    await send({ patient: 'p1', minute: 0, p: 0.5, band: 'high' }, { patient: 'p1', minute: 1, p: 0.6, band: 'high' });
    await waitFor(() => events.length === 1, 'the raised event');
    expect(events[0]!.payload.escalateAt).toBe(new Date(T0 + 31 * MIN).toISOString());

    clock.set(T0 + 30 * MIN);
    await service.tick();
    expect(ofType(events, 'escalated')).toEqual([]);
    clock.set(T0 + 31 * MIN);
    await service.tick();
    await service.tick();
    await waitFor(() => events.length === 2, 'the escalated event');
    expect(events[1]).toMatchObject({ occurredAt: new Date(T0 + 31 * MIN).toISOString(), payload: { type: 'escalated', status: 'escalated' } });
    expect((await service.app.inject('/alerts?status=escalated')).json().count).toBe(1);
  });

  it('flags overdue observations on its clock once caught up, and resolves them when a new set arrives', async () => {
    const broker = new MemoryBroker();
    const clock = fakeClock(T0);
    const { events, send } = await watch(broker);
    const service = await start(broker, clock);
    await send({ patient: 'p3', minute: 0, p: 0.01, news2: 6 });
    await waitFor(() => service.engine.patients === 1, 'the score');
    clock.set(T0 + 75 * MIN);
    await service.tick();
    await waitFor(() => events.length === 1, 'the overdue alert');
    expect(events[0]!.payload).toMatchObject({ type: 'raised', kind: 'observations_overdue', overdue: { lastObservationAt: new Date(T0).toISOString(), dueAt: new Date(T0 + 60 * MIN).toISOString(), intervalHours: 1 } });
    const listed = (await service.app.inject('/alerts?kind=observations_overdue')).json();
    expect(listed.alerts[0]).toMatchObject({ patientId: 'p3', overdue: { intervalHours: 1 } });
    await send({ patient: 'p3', minute: 80, p: 0.01, news2: 6 });
    await waitFor(() => events.length === 2, 'the resolution');
    expect(events[1]!.payload).toMatchObject({ type: 'resolved', resolveReason: 'observations_taken' });
  });

  it('restores open alerts, their status and the budget after a restart, and carries on with the same alert ids', async () => {
    const broker = new MemoryBroker();
    const clock = fakeClock(T0 + 5 * MIN);
    const { events, send } = await watch(broker);
    const first = await start(broker, clock);
    await send({ patient: 'a', minute: 0, p: 0.3 }, { patient: 'a', minute: 1, p: 0.3 }, { patient: 'b', minute: 0, p: 0.4, band: 'high' }, { patient: 'b', minute: 1, p: 0.4, band: 'high' });
    await waitFor(() => events.length === 2, 'two raised events');
    const alertOf = (patient: string) => events.find((e) => e.patientId === patient)!.payload.alertId;
    expect((await first.app.inject({ method: 'POST', url: `/alerts/${alertOf('a')}/acknowledge` })).statusCode).toBe(200);
    const before = (await first.app.inject('/alerts')).json();
    await first.stop();

    const second = await start(broker, clock);
    const after = (await second.app.inject('/alerts')).json();
    expect(after.alerts).toEqual(before.alerts);
    expect(after.budgets).toEqual(before.budgets);
    // The restored escalation clock still runs for the high alert; the acknowledged one stays quiet.
    clock.set(T0 + 40 * MIN);
    await second.tick();
    await send({ patient: 'a', minute: 60, p: 0.02 });
    await waitFor(() => events.length === 5, 'the acknowledged, escalated and resolved events');
    expect(events.slice(2).map((e) => [e.patientId, e.payload.type, e.payload.alertId])).toEqual([
      ['a', 'acknowledged', alertOf('a')],
      ['b', 'escalated', alertOf('b')],
      ['a', 'resolved', alertOf('a')],
    ]);
  });

  it('publishes each alert event once per id across redelivery: a batch whose state write failed is redone with the same ids, and a restarted service skips what it applied', async () => {
    const broker = new MemoryBroker();
    const clock = fakeClock(T0 + 5 * MIN);
    const { events, send } = await watch(broker);
    // The state write fails once, after the batch's alert events were published.
    const flaky = new MemoryBus({ broker });
    let failures = 1;
    const produce = flaky.produce.bind(flaky);
    flaky.produce = async (topic, records) => {
      if (topic === TOPICS.alertState && failures > 0 && records.some((r) => !r.key.startsWith('#'))) {
        failures--;
        throw new Error('broker unavailable');
      }
      return produce(topic, records);
    };
    const service = await start(broker, clock, flaky);
    await send(...[0, 1, 2, 3].map((m) => ({ patient: 'p9', minute: m, p: m < 2 ? 0.3 : m === 2 ? 0.45 : 0.05 })));
    await waitFor(() => ofType(events, 'resolved').length >= 2 && service.engine.state('p9')?.applied?.offset !== undefined, 'the redelivered batch');
    const ids = events.map((e) => e.eventId);
    // Raised, superseded by a further rise (resolved + raised), then recovered: 4 distinct events, some published twice with the same id.
    expect(new Set(ids).size).toBe(4);
    expect(ids.length).toBeGreaterThan(4);
    const distinct = new Map(events.map((e) => [e.eventId, e]));
    expect([...distinct.values()].map((e) => `${e.payload.type}:${e.payload.resolveReason ?? ''}`)).toEqual(['raised:', 'resolved:superseded', 'raised:', 'resolved:recovered']);
    await service.stop();

    // A new consumer group reads every score again: the restored state has applied them all.
    const seen = events.length;
    const config = loadConfig({ ALERTING_POLICY: policyPath, ALERTING_GROUP_ID: 'alerting-replay', KAFKA_TOPIC_PARTITIONS: '3' });
    const replay = createAlertingService({ config, logger, bus: new MemoryBus({ broker }), now: clock.now, manualClock: true });
    await replay.start();
    cleanup.push(async () => {
      await replay.stop();
      await replay.app.close();
    });
    await send({ patient: 'p9', minute: 10, p: 0.05 });
    await waitFor(() => replay.engine.state('p9')?.latest?.at === T0 + 10 * MIN, 'the new score');
    expect(events.length).toBe(seen);
  });

  it('dead-letters a score it cannot read and keeps going', async () => {
    const broker = new MemoryBroker();
    const clock = fakeClock();
    const { client, events, dead, send } = await watch(broker);
    await start(broker, clock);
    await client.produce(TOPICS.scores, [{ key: 'p1', value: '{"not":"a score"}' }]);
    await send({ patient: 'p1', minute: 0, p: 0.3 }, { patient: 'p1', minute: 1, p: 0.3 });
    await waitFor(() => dead.length === 1 && events.length === 1, 'a dead letter and an alert');
    expect(dead[0]).toMatchObject({ service: 'alerting', reason: 'schema_invalid', sourceTopic: TOPICS.scores });
  });

  it('restores the alerts of patients whose ids look like the changelog\'s own keys, and the unit budgets beside them', async () => {
    // Ids the contract allows ('_', '.' and ':' are in its pattern) that were the changelog's
    // marker and budget keys: one was skipped as a marker, the other overwrote ward-a's budget.
    const broker = new MemoryBroker();
    const clock = fakeClock(T0 + 5 * MIN);
    const { events, send } = await watch(broker);
    const first = await start(broker, clock);
    const patients = ['p1', '__restore_marker.x', '__budget.u:ward-a'];
    await send(...patients.flatMap((patient) => [{ patient, minute: 0, p: 0.3 }, { patient, minute: 1, p: 0.3 }]));
    await waitFor(() => events.length === 3, 'three raised events');
    const before = (await first.app.inject('/alerts')).json();
    expect(before.alerts.map((a: { patientId: string }) => a.patientId).sort()).toEqual([...patients].sort());
    expect(before.budgets).toEqual([expect.objectContaining({ unit: 'ward-a', used: 3 })]);
    await first.stop();

    const second = await start(broker, clock);
    const after = (await second.app.inject('/alerts')).json();
    expect(after.alerts).toEqual(before.alerts);
    expect(after.budgets).toEqual(before.budgets);
  });

  it('reads a changelog written under the old internal keys: budgets restored, old markers skipped', async () => {
    const broker = new MemoryBroker();
    const clock = fakeClock(T0 + 5 * MIN);
    const writer = new MemoryBus({ broker });
    await writer.ensureTopics([{ topic: TOPICS.alertState, partitions: 3, compacted: true }]);
    const day = new Date(T0).toISOString().slice(0, 10);
    await writer.produce(TOPICS.alertState, [
      { key: '__budget.u:ward-a', value: encodeBudgetUse({ unit: 'ward-a', day, used: 4 }) },
      { key: '__restore_marker.0.3', value: randomUUID() },
    ]);
    const service = await start(broker, clock);
    expect((await service.app.inject('/alerts')).json().budgets).toEqual([{ unit: 'ward-a', day, used: 4, limit: 5 }]);
    expect((await service.app.inject('/metrics')).body).toMatch(/^ehr_alerting_changelog_unreadable_total\{[^}]*\} 0$/m);
  });

  it('skips a changelog state whose times no clock can hold (raised at 1e300 ms), so that one record cannot fail the alert list for every patient', async () => {
    const broker = new MemoryBroker();
    const clock = fakeClock(T0 + 5 * MIN);
    const { events, send } = await watch(broker);
    const first = await start(broker, clock);
    await send({ patient: 'p1', minute: 0, p: 0.3 }, { patient: 'p1', minute: 1, p: 0.3 });
    await waitFor(() => events.length === 1, 'the raised event');
    const before = (await first.app.inject('/alerts')).json();
    await first.stop();
    const hostile = {
      v: 1, patientId: 'P9', encounterId: null, unit: null, streak: 0, episode: false, lastAlert: null, latest: null, overdueFor: null, closed: [], applied: null,
      alerts: [{ alertId: 'a1', kind: 'deterioration', severity: 'high', status: 'open', raisedAt: 1e300, escalateAt: null, escalatedAt: null, acknowledgedAt: null, acknowledgedBy: null, scoreId: null, level: null, probability: null, news2: null, unit: null, reason: 'x', overdue: null }],
    };
    await new MemoryBus({ broker }).produce(TOPICS.alertState, [{ key: 'P9', value: JSON.stringify(hostile) }]);

    const second = await start(broker, clock);
    const list = await second.app.inject('/alerts');
    expect(list.statusCode).toBe(200);
    expect(list.json().alerts).toEqual(before.alerts);
    expect((await second.app.inject('/metrics')).body).toMatch(/^ehr_alerting_changelog_unreadable_total\{[^}]*\} 1$/m);
  });

  it('holds at most ALERTING_MAX_PATIENTS patients: a flood of new ids lets the least recently scored go, never one with an open alert, and the changelog forgets them too', async () => {
    const broker = new MemoryBroker();
    const clock = fakeClock(T0 + 90 * MIN);
    const { events, send } = await watch(broker);
    const cap = { ALERTING_MAX_PATIENTS: '10' };
    const first = await start(broker, clock, new MemoryBus({ broker }), cap);
    await send({ patient: 'hot', minute: 0, p: 0.3 }, { patient: 'hot', minute: 1, p: 0.3 });
    await waitFor(() => events.length === 1, 'the raised event');
    const flood = Array.from({ length: 40 }, (_, i) => ({ patient: `flood-${i}`, minute: 2 + i, p: 0.01 }));
    await send(...flood);
    const metric = (body: string, name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(body)?.[1]);
    await waitFor(async () => metric((await first.app.inject('/metrics')).body, 'ehr_alerting_scores_total') >= 42, 'every score applied');
    const body = (await first.app.inject('/metrics')).body;
    expect(metric(body, 'ehr_alerting_patients')).toBeLessThanOrEqual(10);
    expect(metric(body, 'ehr_alerting_capped_patients_total')).toBeGreaterThanOrEqual(32);
    const open = (await first.app.inject('/alerts')).json().alerts;
    expect(open.map((a: { patientId: string }) => a.patientId)).toEqual(['hot']);
    await first.stop();

    // A restart reads back what was held, not every id the flood named.
    const second = await start(broker, clock, new MemoryBus({ broker }), cap);
    expect(metric((await second.app.inject('/metrics')).body, 'ehr_alerting_patients')).toBeLessThanOrEqual(10);
    expect((await second.app.inject('/alerts')).json().alerts).toEqual(open);
  });

  it('dead-letters a score whose applying keeps throwing after 3 deliveries, and publishes what the scores before it in the batch raised', async () => {
    const broker = new MemoryBroker();
    const clock = fakeClock(T0 + 5 * MIN);
    const { events, dead, send } = await watch(broker);
    const service = await start(broker, clock);
    const poison: ScoreSpec = { patient: 'p4', minute: 2, p: 0.3 };
    const poisonId = scoreEvent(poison).payload.scoreId;
    const apply = service.engine.applyScore.bind(service.engine);
    let throws = 0;
    service.engine.applyScore = (input, position) => {
      if (input.scoreId === poisonId) {
        throws++;
        throw new Error('the engine cannot apply this score');
      }
      return apply(input, position);
    };
    // One patient, one partition, one batch: two scores that raise, then the one that throws.
    await send({ patient: 'p4', minute: 0, p: 0.3 }, { patient: 'p4', minute: 1, p: 0.3 }, poison);
    await waitFor(() => dead.length === 1 && events.length === 1, 'the dead letter and the raised event', 30_000);
    expect(throws).toBe(3);
    expect(dead[0]).toMatchObject({ service: 'alerting', reason: 'processing_error', originalEventId: scoreEvent(poison).eventId, error: expect.stringContaining('threw on each of 3 attempts') });
    expect(events.map((e) => e.payload.type)).toEqual(['raised']);
    // The partition moved on.
    await send({ patient: 'p4', minute: 3, p: 0.01 });
    await waitFor(() => events.length === 2, 'the resolution after the poison');
    expect(events[1]!.payload).toMatchObject({ type: 'resolved' });
  });

  it('answers 503 for the alert list before its state is restored', async () => {
    const config = loadConfig({ ALERTING_POLICY: 'news2-ge7' });
    const service = createAlertingService({ config, logger, bus: new MemoryBus(), manualClock: true });
    cleanup.push(() => service.app.close());
    expect((await service.app.inject('/alerts')).statusCode).toBe(503);
    expect((await service.app.inject('/health/ready')).statusCode).toBe(503);
  });
});

describe('the policy setting', () => {
  it('takes a shipped policy by name or a file relative to the working directory, and stops the start on a bad one', () => {
    expect(policyFrom('default', '/nowhere').name).toBe('default');
    expect(policyFrom('policy.json', dir).name).toBe('ward-test');
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...POLICY, deterioration: { ...POLICY.deterioration, exit: 0.9 } }));
    expect(() => createAlertingService({ config: loadConfig({ ALERTING_POLICY: join(dir, 'bad.json') }), logger, bus: new MemoryBus() })).toThrow(/exit \(0.9\) must not be above/);
    expect(() => loadConfig({ ALERTING_TICK_MS: 'often' })).toThrow(/ALERTING_TICK_MS/);
  });
});
