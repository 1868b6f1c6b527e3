// The state changelog is input too: records no writer of this service produces (forged,
// corrupt, or from a recreated topic) are skipped and counted, never believed. Each case
// here was found to crash, stall or silence the service before it was bounded.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { MemoryBroker, MemoryBus, type BusRecord, type OutgoingRecord } from '@ehr/bus';
import { encodeState, processEvent, TOPICS, type PatientState, type RawEvent } from '@ehr/features';
import { createLogger } from '@ehr/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { encodePatient, MAX_STATE_JSON_BYTES, PART_MAX_BYTES, readChangelog } from '../src/changelog-records.js';
import { createFeatureService, engineOptions, loadConfig } from '../src/index.js';
import { collect, waitFor } from './fixtures/stream.js';

const MIN = 60_000;
let seq = 0;
function hr(patientId: string, minutesAgo: number): RawEvent {
  const at = new Date(Date.now() - minutesAgo * MIN).toISOString();
  return { schema: 'vital_sign', schemaVersion: 1, eventId: `ev-${++seq}`, patientId, encounterId: null, occurredAt: at, producedAt: at, source: 'api', payload: { kind: 'heart_rate', value: 80, unit: '/min' } };
}

/** A real patient's state, as the service would hold it. */
function stateOf(patientId: string): PatientState {
  const store = new Map<string, PatientState>();
  const options = { ...engineOptions(loadConfig({})), triggers: new Set<never>() };
  for (let m = 60; m > 0; m -= 5) processEvent({ get: (id) => store.get(id), set: (id, s) => store.set(id, s) }, hr(patientId, m), options);
  return store.get(patientId)!;
}

const asLatest = (records: OutgoingRecord[]) =>
  new Map<string, BusRecord>(records.map((r, i) => [r.key, { topic: TOPICS.featureState, partition: 0, offset: String(i), key: r.key, value: Buffer.from(r.value), headers: r.headers ?? {}, timestamp: 0 }]));
const skippedWhy = (records: OutgoingRecord[]) => readChangelog(asLatest(records)).skipped.map((s) => `${s.kind}: ${s.why}`);

/** The service's JSON of a state, with one field of `state` replaced. */
function forged(patientId: string, field: string, value: unknown): OutgoingRecord {
  const encoded = JSON.parse(encodeState(stateOf(patientId), { partition: 0 })) as { state: Record<string, unknown> };
  encoded.state[field] = value;
  return { key: patientId, value: JSON.stringify(encoded) };
}

describe('feature state changelog: hostile records', () => {
  it('a manifest claiming 999,999 parts is refused as it is read (it built every part name first: out of heap on every start)', () => {
    const manifest = { version: '0123456789abcdef', parts: 999_999, bytes: 10, sha256: 'x' };
    expect(skippedWhy([{ key: 'P-1', value: JSON.stringify(manifest), headers: { 'ehr-state-format': 'parts' } }])).toEqual(['state: unreadable manifest']);
  });

  it('a state of more than 1,000,000 gzipped bytes, as the service writes it, reads back', () => {
    // Whitespace JSON.parse ignores, stored without compression: 1.2 MB in three parts.
    const json = Buffer.from(encodeState(stateOf('P-large'), { partition: 0 }) + ' '.repeat(1_200_000));
    const zipped = gzipSync(json, { level: 0 });
    const sha256 = createHash('sha256').update(zipped).digest('hex');
    const version = sha256.slice(0, 16);
    const count = Math.ceil(zipped.length / PART_MAX_BYTES);
    expect(zipped.length).toBeGreaterThan(1_000_000);
    const parts = Array.from({ length: count }, (_, i) => ({ key: `#part/P-large/${version}/${i}`, value: zipped.subarray(i * PART_MAX_BYTES, (i + 1) * PART_MAX_BYTES) }));
    const head = { key: 'P-large', value: JSON.stringify({ version, parts: count, bytes: zipped.length, sha256 }), headers: { 'ehr-state-format': 'parts' } };
    const read = readChangelog(asLatest([head, ...parts]));
    expect(read.skipped).toEqual([]);
    expect(read.states.get(0)?.get('P-large')?.series[0]?.length).toBe(12);
    // And the service's own writer cuts parts the same way.
    expect(encodePatient('P-large', stateOf('P-large'), 0).parts).toEqual([]);
  });

  it('a gzip that unzips past 64 MiB is refused at the bound, not unzipped into memory', () => {
    const bomb = gzipSync(Buffer.alloc(MAX_STATE_JSON_BYTES + 1, 0x20));
    expect(bomb.length).toBeLessThan(200_000);
    expect(skippedWhy([{ key: 'P-bomb', value: bomb, headers: { 'ehr-state-format': 'gzip' } }])).toEqual([`state: state unzips to more than ${MAX_STATE_JSON_BYTES} bytes`]);
  });

  it('an offset past int64 is not an offset', () => {
    expect(skippedWhy([{ key: '#offset/0', value: JSON.stringify({ partition: 0, nextOffset: '9999999999999999999' }) }])).toEqual(['offset: not an offset record of its own partition']);
  });

  it('times no event could carry, and facts of the wrong shape, make the state unreadable (the patient starts afresh)', () => {
    const cases: [string, unknown, RegExp][] = [
      ['maxTime', 1e300, /maxTime/],
      ['maxTime', 'soon', /maxTime/],
      ['dedupFloor', 1e300, /dedupFloor/],
      ['dischargedAt', -1e300, /dischargedAt/],
      ['encounter', { time: Date.now(), hash: 1, id: { x: 1 } }, /encounter/],
      ['spo2Scale', { time: Date.now(), hash: 1, scale: 7 }, /spo2Scale/],
      ['notes', [{ time: 'noon', hash: 1, length: 1, words: 1, avgWordLength: 1, affirmed: 0, negated: 0 }], /notes/],
    ];
    for (const [field, value, why] of cases) {
      const skipped = skippedWhy([forged('P-forged', field, value)]);
      expect(skipped, `${field}: ${JSON.stringify(value)}`).toHaveLength(1);
      expect(skipped[0], field).toMatch(why);
    }
    // A series time of 1e300, in the base64 of its doubles.
    const encoded = JSON.parse(encodeState(stateOf('P-series'), { partition: 0 })) as { state: { series: [number, string, string][] } };
    const bytes = Buffer.from(encoded.state.series[0]![1], 'base64');
    const times = new Float64Array(bytes.length / 8);
    new Uint8Array(times.buffer).set(bytes);
    times[0] = 1e300;
    encoded.state.series[0]![1] = Buffer.from(times.buffer).toString('base64');
    expect(skippedWhy([{ key: 'P-series', value: JSON.stringify(encoded) }])).toEqual([expect.stringMatching(/series 0 holds a time that is no event time/)]);
    // The state as the service wrote it reads back.
    expect(skippedWhy([{ key: 'P-fine', value: encodeState(stateOf('P-fine'), { partition: 0 }) }])).toEqual([]);
  });
});

describe('feature service: a stored offset past the partition\'s end', () => {
  const running: ReturnType<typeof createFeatureService>[] = [];
  afterEach(async () => {
    for (const s of running.splice(0)) {
      await s.stop().catch(() => undefined);
      await s.app.close();
    }
  });

  it('is not believed: every event is featurized (it counted all as already included and dropped them, readiness up)', async () => {
    const broker = new MemoryBroker({ defaultPartitions: 1 });
    const bus = new MemoryBus({ broker });
    await bus.produce(TOPICS.featureState, [{ key: '#offset/0', value: JSON.stringify({ partition: 0, nextOffset: '9999999999' }) }]);
    const service = createFeatureService({
      config: loadConfig({ KAFKA_TOPIC_PARTITIONS: '1', FEATURE_STATE_CHANGELOG: 'on', FEATURE_CHECKPOINT_INTERVAL_MS: '0' }),
      logger: createLogger({ service: 'feature', level: 'silent' }),
      bus: new MemoryBus({ broker }),
    });
    running.push(service);
    await service.start();
    const out = await collect(bus, TOPICS.features, 'v');
    await bus.produce(TOPICS.events, Array.from({ length: 5 }, (_, i) => hr('P-offset', 50 - i)).map((e) => ({ key: e.patientId, value: JSON.stringify(e) })));
    await waitFor('five vectors', () => out.records.length === 5, 15_000);
    const metrics = (await service.app.inject('/metrics')).body;
    expect(metrics).toMatch(/^ehr_feature_changelog_offsets_distrusted_total\{[^}]*\} 1$/m);
    expect(service.processor.partitions.get(0)!.lastApplied).toBe(4n);
  });
});
