// Two subsets of the clinical evaluation's rows, each with the model, NEWS2 and qSOFA and the
// paired model − NEWS2 difference: the hours before onset (prediction, not detection), and the
// hours NEWS2 could be scored on every parameter PhysioNet records (consciousness aside).
import { NEWS2_PART_FEATURES, type FeatureValues } from '@ehr/features';
import type { ModelArtifact } from '@ehr/model';
import { describe, expect, it } from 'vitest';
import { renderClinicalReport } from '../src/clinical-report.js';
import { evaluateClinically, formatClinicalSummary, type ClinicalEvaluationInput } from '../src/index.js';

// Stay A (septic): hours 0–7, labelled from hour 1, so onset = 1 + 6 = hour 7. Stay B: hours 0–3, never labelled.
const y = [0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0];
const patientOf = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1];
const hourOf = [0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3];
// The model: 0.5 on A's hours 1–6, 0.9 at A's onset hour 7 (detection); B's hour 1 at 0.6.
const probability = [0.1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.9, 0.2, 0.6, 0.2, 0.2];
// NEWS2: 2 on A's hours 1–6, 8 at hour 7; B: 2, 0, 5, 1.
const news2 = [1, 2, 2, 2, 2, 2, 2, 8, 2, 0, 5, 1];
const qsofa = new Array<number>(12).fill(0);

// NEWS2 parameters: every one but consciousness measured on A's hours 0, 5, 6, 7 and B's hours 2, 3
// (A's hour 5 has consciousness too); A's hour 1 lacks temperature, B's hour 0 air/oxygen; the rest none.
const complete = new Set([0, 5, 6, 7, 10, 11]);
const features: FeatureValues[] = y.map((_, i) => {
  const f: FeatureValues = { news2_total: news2[i]! };
  for (const [name] of NEWS2_PART_FEATURES) f[name] = complete.has(i) || i === 1 || i === 8 ? 0 : null;
  f.news2_consciousness = i === 5 ? 0 : null;
  if (i === 1) f.news2_temperature = null;
  if (i === 8) f.news2_air_or_oxygen = null;
  return f;
});

const base: ClinicalEvaluationInput = { y, patientOf, hourOf, probability, news2, qsofa, alarmThreshold: null, bands: null, bootstrap: 0, news2Features: (i) => features[i]! };

describe('discrimination before onset (positive hours strictly before onset; septic stays from onset on left out)', () => {
  it('keeps A hours 0–6 and all of B: the AUROCs and AUPRCs by hand', () => {
    const e = evaluateClinically(base);
    // All rows: model 29/35 (0.9 beats all 5 negatives, each 0.5 beats 4 of 5); NEWS2 26/35.
    expect(e.hourly.model.auroc).toBe(0.8286);
    expect(e.hourly.news2.auroc).toBe(0.7429);
    const p = e.preOnset!;
    expect(p).toMatchObject({ rows: 11, patients: 2, positives: 6, eventPatients: 1, rowsLeftOut: 1 });
    // Model: six positives at 0.5 each beat 4 of the 5 negatives (not B's 0.6): 24/30.
    expect(p.model).toEqual({ auroc: 0.8, auprc: 0.8571, ci: null });
    // NEWS2: each 2 beats 1, 0, 1, ties B's 2, loses to 5: 3.5 × 6 / 30; precision 6/8 at full recall.
    expect(p.news2).toEqual({ auroc: 0.7, auprc: 0.75, ci: null });
    expect(p.qsofa.auroc).toBe(0.5);
    expect(p.aurocDifference).toEqual({ value: 0.1, ci: null });
    expect(p.rule).toMatch(/first positive label \+ 6 h/);
  });

  it('the onset is the first labelled hour + 6 even when the label starts at the stay\'s first hour', () => {
    // A labelled from hour 0: onset 6, so hours 6 and 7 are left out.
    const e = evaluateClinically({ ...base, y: [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0] });
    expect(e.preOnset).toMatchObject({ rows: 10, positives: 6, rowsLeftOut: 2 });
  });

  it('none without hours (event rows of a MEDS replay)', () => {
    expect(evaluateClinically({ ...base, hourOf: null }).preOnset).toBeNull();
  });
});

describe('discrimination where NEWS2 has every parameter but consciousness', () => {
  it('keeps A hours 0, 5, 6, 7 and B hours 2, 3: the AUROCs and AUPRCs by hand', () => {
    const c = evaluateClinically(base).completeNews2!;
    expect(c).toMatchObject({ rows: 6, patients: 2, positives: 3, eventPatients: 1, rowsLeftOut: 6 });
    // Model: 0.9 and 0.5, 0.5 above every negative (0.1, 0.2, 0.2).
    expect(c.model).toEqual({ auroc: 1, auprc: 1, ci: null });
    // NEWS2: 8 beats 1, 5, 1; each 2 beats the two 1s, loses to 5: 7/9. AP 1/3 · 1 + 2/3 · 3/4.
    expect(c.news2).toEqual({ auroc: 0.7778, auprc: 0.8333, ci: null });
    expect(c.aurocDifference).toEqual({ value: 0.2222, ci: null });
    expect(c.rule).toMatch(/consciousness/);
  });

  it('none without NEWS2 parameters', () => {
    expect(evaluateClinically({ ...base, news2Features: null }).completeNews2).toBeNull();
  });
});

describe('the subsets beside the rest', () => {
  it('paired bootstrap intervals on the same resamples; every other figure as before', () => {
    const e = evaluateClinically({ ...base, bootstrap: 50, seed: 4 });
    for (const s of [e.preOnset!, e.completeNews2!]) {
      for (const d of [s.model, s.news2, s.qsofa]) expect(d.ci).not.toBeNull();
      expect(s.aurocDifference.ci).not.toBeNull();
    }
    // The model ranks the complete rows perfectly on every resample: the difference never below 0.
    expect(e.completeNews2!.aurocDifference.ci!.low).toBeGreaterThanOrEqual(0);
    // The subsets draw nothing of their own: without hours or parameters, the other intervals are the same.
    const without = evaluateClinically({ ...base, bootstrap: 50, seed: 4, news2Features: null });
    expect(without.hourly).toEqual(e.hourly);
    expect(without.stay).toEqual(e.stay);
    expect(without.aurocDifference).toEqual(e.aurocDifference);
    expect(without.preOnset).toEqual(e.preOnset);
  });

  it('in the terminal summary and the HTML report, labelled', () => {
    const e = evaluateClinically(base);
    const text = formatClinicalSummary(e);
    expect(text).toMatch(/before onset.*11 rows \(91\.7 %\) of 2 stays.*6 positive/);
    expect(text).toMatch(/model − NEWS2 AUROC before onset 0\.100/);
    expect(text).toMatch(/NEWS2 complete but consciousness.*6 rows \(50\.0 %\) of 2 stays.*3 positive/);
    expect(text).toMatch(/model − NEWS2 AUROC with NEWS2 complete 0\.222/);
    const artifact = { name: 'm', version: '1', featureSchemaVersion: '2.1.0', featureNames: [], hyperparameters: { nTrees: 1 }, createdAt: '2026-01-01' } as unknown as ModelArtifact;
    const html = renderClinicalReport({ title: 't', artifact, importance: [], evaluatedOn: 'hand-made rows', evaluation: e, splits: [], timings: [], notes: [], reproduce: null });
    expect(html).toContain('id="pre-onset"');
    expect(html).toContain('id="complete-news2"');
    expect(html).toMatch(/<th>Random Forest<\/th><td>0\.800/);
    expect(html).toMatch(/<th>NEWS2<\/th><td>0\.778/);
  });
});
