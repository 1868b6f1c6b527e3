import { describe, expect, it } from 'vitest';
import { buildTrainingRows, createRandom, FEATURE_NAMES, news2FromSnapshotVitals, news2OfFeatures, news2Problems, type RawEvent } from '../src/index.js';
import { admission, transfer, vital } from './helpers.js';

describe('news2OfFeatures (the NEWS2 a vector carries, for scores)', () => {
  it('reads the total and bands it with its parts: a single parameter at 3 is low-medium', () => {
    const features = { news2_total: 3, news2_respiratory_rate: 3, news2_spo2: 0, news2_heart_rate: 0 };
    expect(news2OfFeatures(features)).toEqual({ total: 3, band: 'low_medium' });
    expect(news2OfFeatures({ ...features, news2_total: 7 })).toEqual({ total: 7, band: 'high' });
  });

  it('is null when not one parameter was scored, or the total is missing', () => {
    expect(news2OfFeatures({ news2_total: 0 })).toEqual({ total: null, band: null });
    expect(news2OfFeatures({ news2_heart_rate: 1, news2_total: null })).toEqual({ total: null, band: null });
  });
});

describe('news2Problems: a NEWS2 that cannot be one', () => {
  const parts = { news2_respiratory_rate: 2, news2_spo2: 0, news2_air_or_oxygen: 0, news2_systolic_bp: 2, news2_heart_rate: 2, news2_consciousness: null, news2_temperature: 2 };

  it('refuses parts the vital signs beside them contradict, or vitals beside no part (consciousness: either of avpu and gcs)', () => {
    expect(news2Problems({ respiratory_rate: 30, systolic_bp: 85, heart_rate: 140 })).toEqual([
      { path: 'payload.features.news2_respiratory_rate', message: 'news2_respiratory_rate is missing, but respiratory_rate 30 is given (NEWS2 scores it 3)' },
      { path: 'payload.features.news2_systolic_bp', message: 'news2_systolic_bp is missing, but systolic_bp 85 is given (NEWS2 scores it 3)' },
      { path: 'payload.features.news2_heart_rate', message: 'news2_heart_rate is missing, but heart_rate 140 is given (NEWS2 scores it 3)' },
    ]);
    expect(news2Problems({ respiratory_rate: 30, news2_respiratory_rate: 0, news2_total: 0 })).toEqual([
      { path: 'payload.features.news2_respiratory_rate', message: 'news2_respiratory_rate 0 disagrees with respiratory_rate 30, which NEWS2 scores 3' },
    ]);
    expect(news2Problems({ respiratory_rate: 30, news2_respiratory_rate: 3, news2_total: 3 })).toEqual([]);
    // The feature service read the more recent of the two: either one's part is a NEWS2.
    expect(news2Problems({ avpu: 3, gcs: 15, news2_consciousness: 0, news2_total: 0 })).toEqual([]);
    expect(news2Problems({ avpu: 3, gcs: 15, news2_consciousness: 3, news2_total: 3 })).toEqual([]);
    expect(news2Problems({ avpu: 3, news2_consciousness: 0, news2_total: 0 })[0]?.message).toBe('news2_consciousness 0 disagrees with avpu 3, which NEWS2 scores 3');
  });

  it('refuses a total that is not the sum of the parts given, or missing beside them', () => {
    expect(news2Problems({ ...parts, news2_total: 8 })).toEqual([]);
    expect(news2Problems({ ...parts, news2_total: 0 })).toEqual([{ path: 'payload.features.news2_total', message: 'news2_total 0 is not the sum of the NEWS2 parts given (8)' }]);
    expect(news2Problems({ ...parts, news2_total: 10 })[0]?.message).toContain('not the sum');
    expect(news2Problems({ ...parts, news2_total: null })[0]?.message).toBe('news2_total is missing, but 6 of its parts are given (they sum to 8)');
    // A total alone (no parts) is what a caller may know; nothing to hold it against.
    expect(news2Problems({ news2_total: 6 })).toEqual([]);
  });

  it('accepts every vector the feature code makes (parts, total, and the vital signs beside them)', async () => {
    const vectors: Record<string, number | null>[] = [];
    // Eight patients, a vital sign of a random kind and value every half hour, some never
    // measured; consciousness by ACVPU and GCS in turn (the more recent counts), oxygen on and
    // off, and two patients on SpO2 scale 2.
    const rng = createRandom(7);
    const kinds = ['heart_rate', 'respiratory_rate', 'spo2', 'systolic_bp', 'temperature', 'avpu', 'gcs', 'fio2', 'supplemental_o2'] as const;
    const ranges = { heart_rate: [30, 180], respiratory_rate: [5, 40], spo2: [80, 100], systolic_bp: [60, 230], temperature: [34, 41], avpu: [0, 4], gcs: [3, 15], fio2: [0.21, 0.6], supplemental_o2: [0, 1] } as const;
    const whole = new Set(['avpu', 'gcs', 'supplemental_o2']);
    const events: RawEvent[] = [];
    for (let p = 0; p < 8; p++) {
      events.push(admission(`P${p}`, 0));
      if (p >= 6) events.push(transfer(`P${p}`, 0.1, 'Respiratory Ward', false, 2));
      for (let h = 1; h < 48; h++) {
        const kind = kinds[rng.int(0, p % 2 === 0 ? kinds.length - 1 : 2)]!;
        const raw = ranges[kind][0] + rng.next() * (ranges[kind][1] - ranges[kind][0]);
        events.push(vital(`P${p}`, kind, whole.has(kind) ? Math.round(raw) : raw, h / 2, { id: `P${p}-${h}` }));
      }
    }
    await buildTrainingRows(events, { onVector: (draft) => vectors.push(Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, Number.isFinite(draft.values[i]!) ? draft.values[i]! : null]))) });
    expect(vectors.length).toBeGreaterThan(100);
    // The vectors hold what the check reads: both consciousness sources, oxygen either way, scale 2.
    const seen = (name: string, test: (v: number) => boolean) => vectors.some((v) => typeof v[name] === 'number' && test(v[name]));
    expect([seen('avpu', (v) => v > 0), seen('gcs', (v) => v < 15), seen('on_oxygen', (v) => v === 1), seen('on_oxygen', (v) => v === 0), seen('news2_spo2_scale', (v) => v === 2)]).toEqual([true, true, true, true, true]);
    expect(vectors.flatMap((v) => news2Problems(v))).toEqual([]);
  });
});

describe('news2FromSnapshotVitals: NEWS2 for POST /score from the vital signs given', () => {
  it('works the parts and the total out as the feature service does', () => {
    const { features, issues } = news2FromSnapshotVitals({ respiratory_rate: 30, systolic_bp: 85, heart_rate: 140, temperature: null });
    expect(issues).toEqual([]);
    expect(features).toMatchObject({ news2_respiratory_rate: 3, news2_systolic_bp: 3, news2_heart_rate: 3, news2_total: 9 });
    expect(features).not.toHaveProperty('news2_temperature');
    // Without avpu or gcs, a given consciousness part counts as given.
    expect(news2FromSnapshotVitals({ heart_rate: 80, news2_consciousness: 3 }).features.news2_total).toBe(3);
    // On oxygen (2 points), and SpO2 on scale 2 scored for a patient on oxygen.
    expect(news2FromSnapshotVitals({ spo2: 97, on_oxygen: 1, news2_spo2_scale: 2 }).features).toMatchObject({ news2_air_or_oxygen: 2, news2_spo2: 3, news2_total: 5 });
  });

  it('scores consciousness from avpu or gcs (the worse of the two: a snapshot has no times)', () => {
    // Unresponsive alone: NEWS2 3, a single parameter at 3.
    expect(news2FromSnapshotVitals({ avpu: 4 }).features).toMatchObject({ news2_consciousness: 3, news2_total: 3 });
    expect(news2FromSnapshotVitals({ avpu: 0 }).features).toMatchObject({ news2_consciousness: 0, news2_total: 0 });
    expect(news2FromSnapshotVitals({ respiratory_rate: 20, heart_rate: 100, systolic_bp: 105, gcs: 8 }).features).toMatchObject({ news2_consciousness: 3, news2_total: 5 });
    expect(news2FromSnapshotVitals({ gcs: 15, avpu: 1 }).features.news2_consciousness).toBe(3);
    expect(news2FromSnapshotVitals({ gcs: 15, avpu: 0 }).features.news2_consciousness).toBe(0);
    expect(news2FromSnapshotVitals({ avpu: 3, news2_consciousness: 0 }).issues).toEqual([
      { path: 'payload.features.news2_consciousness', message: 'news2_consciousness 0 disagrees with avpu 3, which NEWS2 scores 3' },
    ]);
  });

  it('names each NEWS2 feature the vitals contradict, and leaves a snapshot without vitals as it came', () => {
    const { issues } = news2FromSnapshotVitals({ respiratory_rate: 30, news2_respiratory_rate: 0, heart_rate: 80, news2_heart_rate: 0, news2_total: 0 });
    expect(issues).toEqual([{ path: 'payload.features.news2_respiratory_rate', message: 'news2_respiratory_rate 0 disagrees with respiratory_rate 30, which NEWS2 scores 3' }]);
    expect(news2FromSnapshotVitals({ heart_rate: 80, news2_total: 4 }).issues).toEqual([{ path: 'payload.features.news2_total', message: 'news2_total 4 disagrees with the vital signs given, which NEWS2 scores 0' }]);
    expect(news2FromSnapshotVitals({ news2_total: 6, age: 70 })).toEqual({ features: { news2_total: 6, age: 70 }, issues: [] });
  });
});
