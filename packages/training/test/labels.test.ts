import { cohortPatients, labelAt, type MedsPatient } from '@ehr/cohort';
import { FEATURE_COUNT, featureIndex, type TrainingRowMeta } from '@ehr/features';
import { describe, expect, it } from 'vitest';
import { buildDataset, cohortOutcomeLabeler, describeThresholdRule, DEFAULT_THRESHOLD_RULE, medsDeathLabeler, thresholdLabeler } from '../src/index.js';

const meta = (patientId: string, asOf: string, encounterId: string | null = null): TrainingRowMeta => ({ patientId, encounterId, asOf, triggerEventId: 'e', vectorId: 'v' });

describe('labels', () => {
  it('outcome labels are the cohort ground truth within the horizon (labelAt), unknown patients get none', () => {
    const patients = cohortPatients({ seed: 5, patients: 40, hours: 72 });
    const p = patients.find((x) => x.eventTime !== null)!;
    const event = Date.parse(p.eventTime!);
    const label = cohortOutcomeLabeler(patients, 12);
    expect(label(meta(p.patientId, new Date(event - 11 * 3600_000).toISOString()))).toBe(1);
    expect(label(meta(p.patientId, new Date(event - 13 * 3600_000).toISOString()))).toBe(0);
    expect(label(meta(p.patientId, new Date(event - 13 * 3600_000).toISOString()))).toBe(labelAt(p, event - 13 * 3600_000, 12));
    expect(cohortOutcomeLabeler(patients, 24)(meta(p.patientId, new Date(event - 13 * 3600_000).toISOString()))).toBe(1);
    expect(label(meta('nobody', p.admitTime))).toBeNull();
  });

  it('MEDS labels: death in hospital within the horizon after the row, by admission', () => {
    const patients: MedsPatient[] = [
      {
        subjectId: 1, patientId: 'mimic-1', gender: 'F', birthTime: null, deathTime: '2150-01-03T10:00:00.000Z',
        admissions: [
          { encounterId: 'a1', admitTime: '2150-01-01T00:00:00.000Z', dischargeTime: '2150-01-03T10:00:00.000Z', admissionType: 'EW EMER.', unit: 'MICU', dischargeLocation: 'DIED', died: true, icuStays: [] },
          { encounterId: 'a0', admitTime: '2149-01-01T00:00:00.000Z', dischargeTime: '2149-01-05T00:00:00.000Z', admissionType: 'EW EMER.', unit: 'MICU', dischargeLocation: 'HOME', died: false, icuStays: [] },
        ],
      },
    ];
    const label = medsDeathLabeler(patients, 12);
    expect(label(meta('mimic-1', '2150-01-03T00:00:00.000Z', 'a1'))).toBe(1);
    expect(label(meta('mimic-1', '2150-01-02T21:00:00.000Z', 'a1'))).toBe(0); // 13 h before
    expect(label(meta('mimic-1', '2150-01-03T10:00:00.000Z', 'a1'))).toBe(0); // not after the row
    expect(label(meta('mimic-1', '2149-01-04T23:00:00.000Z', 'a0'))).toBe(0); // survived that stay
    expect(label(meta('mimic-1', '2150-01-03T00:00:00.000Z', null))).toBeNull();
  });

  it('the threshold rule labels a row by its own latest values (any threshold crossed)', () => {
    const label = thresholdLabeler(DEFAULT_THRESHOLD_RULE);
    const row = new Float64Array(FEATURE_COUNT).fill(NaN);
    const m = meta('p', '2026-01-01T00:00:00Z');
    expect(label(m, row)).toBe(0);
    row[featureIndex('heart_rate')] = 119;
    row[featureIndex('temperature')] = 38.9;
    expect(label(m, row)).toBe(0);
    row[featureIndex('heart_rate')] = 120;
    expect(label(m, row)).toBe(1);
    row[featureIndex('heart_rate')] = 80;
    row[featureIndex('systolic_bp')] = 90;
    expect(label(m, row)).toBe(1);
    expect(thresholdLabeler({ temperatureLow: 35 })(m, row)).toBe(0);
    expect(describeThresholdRule({ heartRate: 130, temperature: 39.5 })).toBe('severe when any of: heart_rate ≥ 130, temperature ≥ 39.5 (latest values)');
    expect(() => thresholdLabeler({})).toThrow(/at least one threshold/);
  });

  it('threshold-labelled rows from a cohort agree with the rule applied to their feature values', async () => {
    const data = await buildDataset({ kind: 'synthetic', seed: 2, patients: 20, hours: 48 }, { kind: 'threshold', rule: { heartRate: 100 } });
    const hr = featureIndex('heart_rate');
    let positives = 0;
    for (let i = 0; i < data.rows; i++) {
      const v = data.X[i * data.cols + hr]!;
      expect(data.y[i]).toBe(v >= 100 ? 1 : 0);
      positives += data.y[i]!;
    }
    expect(positives).toBeGreaterThan(0);
    expect(data.labelDescription).toMatch(/only relearns/);
  });
});
