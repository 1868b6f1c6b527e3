import { describe, expect, it } from 'vitest';
import { FEATURE_SET_VERSION, vectorAfterEvents, vectorFromSnapshot } from '../src/index.js';
import { at, vital } from './helpers.js';

describe("vectorAfterEvents / vectorFromSnapshot (scoring's POST /score)", () => {
  const now = new Date(Date.parse(at(2)));

  it('builds the vector the feature service would emit after the last event', async () => {
    const built = await vectorAfterEvents([vital('p1', 'heart_rate', 120, 0), vital('p1', 'respiratory_rate', 26, 0.1)], now);
    if (!('vector' in built)) throw new Error(built.error);
    expect(built.vector.payload.featureSetVersion).toBe(FEATURE_SET_VERSION);
    expect(built.vector.payload.features).toMatchObject({ heart_rate: 120, respiratory_rate: 26 });
    expect(built.vector.occurredAt).toBe(at(0.1));
  });

  it('refuses events of two patients, and says why when nothing could be featurized', async () => {
    expect(await vectorAfterEvents([vital('p1', 'heart_rate', 80, 0), vital('p2', 'heart_rate', 80, 0.1)], now)).toEqual({
      error: 'events of one patient only (got 2)',
    });
    const none = await vectorAfterEvents([vital('p1', 'heart_rate', 900, 0)], now);
    expect('error' in none && none.error).toMatch(/^no event could be featurized \(1 /);
  });

  it('wraps named values as a snapshot vector at asOf (or now)', () => {
    const vector = vectorFromSnapshot({ features: { heart_rate: 99 }, context: { unit: 'ICU' } }, now);
    expect(vector.payload).toMatchObject({ featureSetVersion: 'snapshot', asOf: now.toISOString(), features: { heart_rate: 99 }, context: { unit: 'ICU' } });
  });
});
