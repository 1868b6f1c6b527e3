import { describe, expect, it } from 'vitest';
import { buildTrainingRows, FEATURE_COUNT, FEATURE_NAMES, featureIndex, type RawEvent } from '../src/index.js';
import { admission, discharge, H, T0, vital } from './helpers.js';

describe('buildTrainingRows', () => {
  it('one row per vector, NaN for missing, with the ids the service gives', async () => {
    const events: RawEvent[] = [
      admission('a', 0, { gender: 'F' }),
      vital('a', 'heart_rate', 80, 1, { id: 'hr1' }),
      vital('a', 'heart_rate', 80, 1, { id: 'hr1' }),
      vital('a', 'heart_rate', 999, 1.5),
      vital('b', 'temperature', 99, 2, { unit: 'Cel' }),
      discharge('a', 3),
      vital('a', 'heart_rate', 90, 2.5),
    ];
    async function* stream() {
      yield* events;
    }
    const rows = await buildTrainingRows(stream());
    expect(rows.featureNames).toEqual(FEATURE_NAMES);
    expect(rows.matrix).toMatchObject({ rows: 4, cols: FEATURE_COUNT });
    expect(rows.matrix.data.length).toBe(4 * FEATURE_COUNT);
    expect(rows.stats).toMatchObject({ events: 7, featurized: 4, vectors: 4, duplicates: 1, rejected: { implausible_value: 1, late_event: 1 } });
    expect(rows.stats.events).toBe(rows.stats.featurized + rows.stats.duplicates + 2);
    expect(rows.meta.map((m) => [m.patientId, m.asOf])).toEqual([
      ['a', new Date(T0).toISOString()],
      ['a', new Date(T0 + H).toISOString()],
      ['b', new Date(T0 + 2 * H).toISOString()],
      ['a', new Date(T0 + 3 * H).toISOString()],
    ]);
    const hr = featureIndex('heart_rate');
    expect(rows.matrix.data[hr]).toBeNaN();
    expect(rows.matrix.data[FEATURE_COUNT + hr]).toBe(80);
    expect(rows.matrix.data[2 * FEATURE_COUNT + featureIndex('temperature')]).toBeCloseTo(37.222, 3);
    expect(rows.meta[1]!.vectorId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('rejects what fails the schema, as the service would', async () => {
    const bad = { ...vital('c', 'heart_rate', 80, 0), schemaVersion: 2 } as unknown as RawEvent;
    const rows = await buildTrainingRows([bad]);
    expect(rows.stats.rejected).toEqual({ unsupported_schema_version: 1 });
  });
});

describe('serializeFeatureVector', () => {
  it('writes exactly what JSON.stringify of the message writes, and it validates', async () => {
    const { processEvent, DEFAULT_ENGINE_OPTIONS, serializeFeatureVector, toFeatureVectorEvent, decodeFeatureVector } = await import('../src/index.js');
    const store = new Map();
    const { note: mkNote } = await import('./helpers.js');
    const events = [admission('s', 0, { gender: 'M', department: 'cardiology' }), vital('s', 'temperature', 37.123456789, 1), mkNote('s', 'Denies "chest" pain\\', 1.5)];
    const when = new Date('2024-01-01T00:00:00Z');
    for (const e of events) {
      const o = processEvent(store, e, DEFAULT_ENGINE_OPTIONS);
      if (o.kind !== 'featurized' || !o.vector) throw new Error('expected a vector');
      const text = serializeFeatureVector(o.vector, when);
      expect(text).toBe(JSON.stringify(toFeatureVectorEvent(o.vector, when)));
      expect(decodeFeatureVector(text).ok).toBe(true);
    }
  });
});
