// Issue 14 against the feature service on the in-memory bus: no single record stops a
// partition, internal changelog records cannot be reached by a patient id, event time is
// bounded by the wall clock, and state is bounded per patient and per instance.
import { MemoryBroker, MemoryBus, type BusRecord } from '@ehr/bus';
import { createRandom, decodeDeadLetter, processEvent, TOPICS, type DeadLetter, type RawEvent } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { encodePatient, readChangelog } from '../src/changelog-records.js';
import { createFeatureService, engineOptions, loadConfig } from '../src/index.js';
import { collect, waitFor } from './fixtures/stream.js';

type Service = ReturnType<typeof createFeatureService>;
const MIN = 60_000;

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ service: 'feature', level: 'info', destination }) };
}

async function metric(service: Service, name: string, label = ''): Promise<number> {
  const body = (await service.app.inject('/metrics')).body;
  let total = 0;
  for (const line of body.split('\n')) if ((line.startsWith(name + '{') || line.startsWith(name + ' ')) && line.includes(label)) total += Number(line.split(' ').at(-1));
  return total;
}

let seq = 0;
/** A heart rate `minutesAgo` before the wall clock. */
function hr(patientId: string, minutesAgo: number, value = 80, extra: Partial<RawEvent> = {}): RawEvent {
  const at = new Date(Date.now() - minutesAgo * MIN).toISOString();
  return {
    schema: 'vital_sign',
    schemaVersion: 1,
    eventId: `ev-${patientId}-${++seq}`,
    patientId,
    encounterId: null,
    occurredAt: at,
    producedAt: at,
    source: 'api',
    payload: { kind: 'heart_rate', value, unit: '/min' },
    ...extra,
  } as RawEvent;
}
const record = (e: RawEvent | object, key = (e as RawEvent).patientId ?? 'k') => ({ key, value: JSON.stringify(e) });
const letters = (records: BusRecord[]): DeadLetter[] =>
  records.map((r) => {
    const d = decodeDeadLetter(r.value);
    if (!d.ok) throw new Error('undecodable dead letter');
    return d.value;
  });

describe('feature service: poison, time and size bounds', () => {
  const running: Service[] = [];
  afterEach(async () => {
    for (const s of running.splice(0)) {
      await s.stop().catch(() => undefined);
      await s.app.close();
    }
  });
  function start(bus: MemoryBus, env: Record<string, string> = {}, extra: Partial<Parameters<typeof createFeatureService>[0]> = {}): Service {
    const service = createFeatureService({ config: loadConfig({ KAFKA_TOPIC_PARTITIONS: '1', ...env }), logger: createLogger({ service: 'feature', level: 'silent' }), bus, ...extra });
    running.push(service);
    return service;
  }

  it('a unit "__proto__" or a schema "toString" is dead-lettered, and every patient behind it is featurized', async () => {
    const bus = new MemoryBus({ defaultPartitions: 1 });
    const service = start(bus);
    await service.start();
    const out = await collect(bus, TOPICS.features, 'v');
    const dl = await collect(bus, TOPICS.deadLetter, 'd');
    const proto = hr('P-proto', 30);
    (proto as { payload: { unit: string } }).payload.unit = '__proto__';
    const before = Array.from({ length: 5 }, (_, i) => record(hr(`P-${i}`, 40)));
    const after = Array.from({ length: 40 }, (_, i) => record(hr(`P-${i}`, 20)));
    await bus.produce(TOPICS.events, [...before, record(proto), record({ schema: 'toString' }, 'x'), record({ ...hr('P-c', 10), schema: 'constructor' }), ...after]);
    await waitFor('the events behind the poison', () => out.records.length === 45 && dl.records.length === 3, 15_000);
    expect(letters(dl.records).map((d) => d.reason)).toEqual(['unknown_unit', 'schema_invalid', 'schema_invalid']);
    expect((await service.app.inject('/health/ready')).json()).toMatchObject({ status: 'ready' });
  });

  it('a record that throws is redelivered 3 times, then dead-lettered as processing_error with its bytes; the partition moves on', async () => {
    const bus = new MemoryBus({ defaultPartitions: 1 });
    const poison = hr('P-bad', 30);
    const attempts: string[] = [];
    // The real engine, with one fault: this event makes it throw, as an unforeseen bug would.
    const engine: typeof processEvent = (store, event, options) => {
      if (event.eventId === poison.eventId) {
        attempts.push(event.eventId);
        throw new TypeError("Cannot read properties of undefined (reading 'x')");
      }
      return processEvent(store, event, options);
    };
    const service = start(bus, {}, { engine });
    await service.start();
    const out = await collect(bus, TOPICS.features, 'v');
    const dl = await collect(bus, TOPICS.deadLetter, 'd');
    await bus.produce(TOPICS.events, [record(hr('P-1', 40)), record(poison), ...Array.from({ length: 20 }, (_, i) => record(hr(`P-${i}`, 20)))]);
    await waitFor('the events behind the poison', () => out.records.length === 21 && dl.records.length === 1, 15_000);
    expect(attempts).toHaveLength(3);
    const [letter] = letters(dl.records);
    expect(letter).toMatchObject({ reason: 'processing_error', service: 'feature', sourceTopic: TOPICS.events, sourceOffset: '1', originalEventId: poison.eventId });
    expect(letter!.error).toContain('threw on each of 3 attempts');
    expect(letter!.error).toContain("reading 'x'");
    expect(Buffer.from(letter!.originalBytes, 'base64').toString()).toBe(JSON.stringify(poison));
    expect(await metric(service, 'ehr_feature_events_total')).toBe(22);
    expect(await metric(service, 'ehr_consumer_records_isolated_total')).toBe(1);
    expect(await metric(service, 'ehr_consumer_record_failures_total')).toBe(3);
    // The first vector (P-1, before the poison) was produced once: the failed deliveries produced nothing.
    expect(out.records.filter((r) => r.value.toString().includes('"patientId":"P-1"'))).toHaveLength(2);
  });

  it('a batch that fails after changing a patient leaves no trace: its redelivery sees the patient as it was', async () => {
    const bus = new MemoryBus({ defaultPartitions: 1 });
    const flaky = hr('P-flaky', 30);
    let failures = 0;
    // The real engine, failing once right after it changed the state (the patient now holds the event).
    const engine: typeof processEvent = (store, event, options) => {
      const outcome = processEvent(store, event, options);
      if (event.eventId === flaky.eventId && failures++ === 0) throw new Error('lost the connection mid-batch');
      return outcome;
    };
    const service = start(bus, {}, { engine });
    await service.start();
    const out = await collect(bus, TOPICS.features, 'v');
    // The patient exists before the failing batch: that batch changes it in place.
    await bus.produce(TOPICS.events, [record(hr('P-flaky', 40))]);
    await waitFor('the first event', async () => (await metric(service, 'ehr_feature_events_total')) === 1, 15_000);
    await bus.produce(TOPICS.events, [record(flaky), record(hr('P-other', 20))]);
    await waitFor('every event', async () => (await metric(service, 'ehr_feature_events_total')) === 3, 15_000);
    // Redelivered to the state before the batch: the event is new again (not a duplicate of itself), and featurized once.
    expect(failures).toBe(2);
    expect(await metric(service, 'ehr_feature_duplicates_total')).toBe(0);
    expect(out.records.filter((r) => r.value.toString().includes(`"triggerEventId":"${flaky.eventId}"`))).toHaveLength(1);
    expect(service.processor.partitions.get(0)!.states.get('P-flaky')!.series[0]!.length).toBe(2);
  });

  it('an event dated ahead of the wall clock is future_event, and no watermark passes the wall clock', async () => {
    const bus = new MemoryBus({ defaultPartitions: 1 });
    const service = start(bus, { MAX_FUTURE_SKEW: '300' });
    await service.start();
    const out = await collect(bus, TOPICS.features, 'v');
    const dl = await collect(bus, TOPICS.deadLetter, 'd');
    const far = { ...hr('P-a', 0), occurredAt: '9999-12-31T23:59:59-23:59' };
    const soon = { ...hr('P-a', 0), occurredAt: new Date(Date.now() + 6 * MIN).toISOString() };
    const allowed = { ...hr('P-b', 0), occurredAt: new Date(Date.now() + 4 * MIN).toISOString() };
    await bus.produce(TOPICS.events, [record(hr('P-a', 60)), record(hr('P-b', 60)), record(far), record(soon), record(allowed), record(hr('P-a', 50)), record(hr('P-b', 50))]);
    await waitFor('every event', async () => (await metric(service, 'ehr_feature_events_total')) === 7, 15_000);
    expect(letters(dl.records).map((d) => [d.reason, d.details[0]?.path])).toEqual([
      ['future_event', 'occurredAt'],
      ['future_event', 'occurredAt'],
    ]);
    // P-a's real events after the 9999 one are not late: its state never saw 9999.
    expect(out.records).toHaveLength(5);
    const partition = service.processor.partitions.get(0)!;
    expect(partition.watermark).toBeLessThanOrEqual(Date.now());
    expect(partition.states.size).toBe(2);
  });

  it('caps the active patients of an instance, evicting the least recently seen, with a metric and a warning', async () => {
    const bus = new MemoryBus({ defaultPartitions: 1 });
    const { lines, logger } = capture();
    const service = createFeatureService({ config: loadConfig({ KAFKA_TOPIC_PARTITIONS: '1', FEATURE_MAX_PATIENTS: '50' }), logger, bus });
    running.push(service);
    await service.start();
    const out = await collect(bus, TOPICS.features, 'v');
    await bus.produce(TOPICS.events, Array.from({ length: 120 }, (_, i) => record(hr(`P-${i}`, 30))));
    await waitFor('every event', () => out.records.length === 120, 15_000);
    expect(service.processor.partitions.get(0)!.states.size).toBeLessThanOrEqual(50);
    expect(service.processor.partitions.get(0)!.states.has('P-119')).toBe(true);
    expect(await metric(service, 'ehr_feature_evicted_patients_total', 'reason="cap"')).toBeGreaterThanOrEqual(70);
    expect(lines.some((l) => l.level === 'warn' && String(l.msg).includes('FEATURE_MAX_PATIENTS'))).toBe(true);
  });

  it('holds the state to FEATURE_MAX_STATE_BYTES however few patients fill it, evicting the least recently seen, with a metric and a warning', async () => {
    const bus = new MemoryBus({ defaultPartitions: 1 });
    const { lines, logger } = capture();
    const service = createFeatureService({ config: loadConfig({ KAFKA_TOPIC_PARTITIONS: '1', FEATURE_MAX_STATE_BYTES: '65536' }), logger, bus });
    running.push(service);
    await service.start();
    // Ten patients, well under the patient cap, of 600 heart rates each: some 20 KB of state apiece.
    const events = Array.from({ length: 10 }, (_, p) => Array.from({ length: 600 }, (_, i) => record(hr(`P-${p}`, 600 - i, 60 + (i % 40))))).flat();
    await bus.produce(TOPICS.events, events);
    const processed = () => metric(service, 'ehr_feature_events_total');
    await waitFor('every event', async () => (await processed()) === events.length, 15_000);
    // The budget is looked at once a second: one more event after that.
    await new Promise((r) => setTimeout(r, 1_100));
    await bus.produce(TOPICS.events, [record(hr('P-last', 1))]);
    await waitFor('the last event', async () => (await processed()) === events.length + 1, 15_000);
    const partition = service.processor.partitions.get(0)!;
    expect(partition.bytes()).toBeLessThanOrEqual(65_536);
    expect(partition.states.has('P-last')).toBe(true);
    expect(partition.states.has('P-0')).toBe(false);
    expect(await metric(service, 'ehr_feature_evicted_patients_total', 'reason="bytes"')).toBeGreaterThan(0);
    expect(lines.some((l) => l.level === 'warn' && String(l.msg).includes('FEATURE_MAX_STATE_BYTES'))).toBe(true);
  });

  it('patient ids that look like internal keys cannot break a restore; bad internal records are skipped and counted', async () => {
    const broker = new MemoryBroker({ defaultPartitions: 1 });
    const env = { FEATURE_STATE_CHANGELOG: 'on', FEATURE_CHECKPOINT_INTERVAL_MS: '0' };
    const a = start(new MemoryBus({ broker }), env);
    await a.start();
    const bus = new MemoryBus({ broker });
    const out = await collect(bus, TOPICS.features, 'v');
    const sly = ['__offset.0', '__offset.x', '__restore_marker.0.0', 'offset'];
    await bus.produce(TOPICS.events, sly.map((id) => record(hr(id, 30))));
    await waitFor('the first vectors', () => out.records.length === 4, 15_000);
    await a.stop();
    // What a foreign writer (or a bug) might leave in the changelog.
    await bus.produce(TOPICS.featureState, [
      { key: '#offset/0', value: 'not json' },
      { key: '#offset/7', value: JSON.stringify({ partition: 0, nextOffset: '99' }) },
      { key: '#what', value: 'x' },
      { key: 'P-garbage', value: '{"v":2,"patientId":"P-garbage","state":{"series":"no"}}' },
      { key: 'P-other', value: JSON.stringify({ v: 2, patientId: 'someone-else', meta: {}, state: { series: [], ledger: ['', ''], notes: [] } }) },
      { key: 'P-gz', value: 'not gzip', headers: { 'ehr-state-format': 'gzip' } },
      { key: 'P-parts', value: JSON.stringify({ version: '0123456789abcdef', parts: 2, bytes: 10, sha256: 'x' }), headers: { 'ehr-state-format': 'parts' } },
    ]);
    const b = start(new MemoryBus({ broker }), env);
    await b.start();
    expect((await b.app.inject('/health/ready')).json()).toMatchObject({ status: 'ready' });
    expect(await metric(b, 'ehr_feature_changelog_skipped_total')).toBe(7);
    expect(await metric(b, 'ehr_feature_changelog_skipped_total', 'kind="offset"')).toBe(2);
    // The sly patients were restored as patients, with their history.
    await bus.produce(TOPICS.events, sly.map((id) => record(hr(id, 20))));
    await waitFor('the second vectors', () => out.records.length === 8, 15_000);
    const p = b.processor.partitions.get(0)!;
    for (const id of sly) expect(p.states.get(id)?.series[0]?.length, id).toBe(2);
    // The offset record of input partition 0 is the one the service wrote (corrupt one skipped, stale one ignored).
    expect(p.lastApplied).toBe(7n);
  });

  it('a state too large for one message is written in parts under 1 MB each, and read back whole', () => {
    // Seven dense signals near the cap, plus the dedup ledger: megabytes of JSON.
    const events: RawEvent[] = [];
    const kinds = ['heart_rate', 'respiratory_rate', 'spo2', 'systolic_bp', 'diastolic_bp', 'mean_bp', 'temperature'] as const;
    const base = Date.now() - 3 * 3_600_000;
    // Values with noise in every digit: they do not compress away.
    const rnd = createRandom(14);
    for (let i = 0; i < 8000; i++) {
      for (const kind of kinds) {
        const at = new Date(base + i * 1000).toISOString();
        const value = kind === 'temperature' ? 36 + rnd.next() * 3 : kind === 'spo2' ? 90 + rnd.next() * 9 : 60 + rnd.next() * 50;
        events.push({ ...hr('P-big', 0), eventId: `big-${kind}-${i}`, occurredAt: at, producedAt: at, payload: { kind, value, unit: kind === 'temperature' ? 'Cel' : kind === 'spo2' ? '%' : kind.endsWith('bp') ? 'mm[Hg]' : '/min' } } as RawEvent);
      }
    }
    const store = new Map();
    const options = { ...engineOptions(loadConfig({})), triggers: new Set<never>() };
    for (const e of events) processEvent({ get: (id) => store.get(id), set: (id, s) => store.set(id, s) }, e, options);
    const encoded = encodePatient('P-big', store.get('P-big'), 0);
    expect(encoded.parts.length).toBeGreaterThan(1);
    for (const r of [encoded.head, ...encoded.parts]) expect(Buffer.byteLength(r.value)).toBeLessThan(1_000_000);
    const latest = new Map<string, BusRecord>(
      [encoded.head, ...encoded.parts].map((r, i) => [r.key, { topic: TOPICS.featureState, partition: 0, offset: String(i), key: r.key, value: Buffer.from(r.value), headers: r.headers ?? {}, timestamp: 0 }]),
    );
    const read = readChangelog(latest);
    expect(read.skipped).toEqual([]);
    expect(read.states.get(0)!.get('P-big')!.ledger.length).toBe(store.get('P-big').ledger.length);
    // A part missing: the patient is skipped (starts afresh), nothing throws.
    latest.delete(encoded.parts[0]!.key);
    expect(readChangelog(latest).skipped.map((s) => s.kind)).toEqual(['state']);
  });
});

