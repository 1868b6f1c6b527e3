// npm run alerts:replay end to end on PhysioNet-like .psv stays: a small model trained on
// them (its split recorded), the policy tuned on its validation patients and replayed on the
// patients it never saw, JSON and HTML written.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRandom } from '@ehr/features';
import { loadModelArtifact, saveModelArtifact, sawPatient, sealArtifact } from '@ehr/model';
import { trainOnPhysioNet } from '@ehr/training';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicy } from '@ehr/alerts';
import { replayCommand, runReplay } from '../src/replay/replay-command.js';
import { loadReplayData } from '../src/replay/replay-data.js';
import { excludedNote } from '../src/replay/replay-report.js';

const dir = mkdtempSync(join(tmpdir(), 'alerts-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const data = join(dir, 'psv');
const model = join(dir, 'model.json');

/** `n` stays of hourly rows; every fourth is septic, its vitals climbing from 8 h before onset. */
function writeStays(n: number): void {
  mkdirSync(data, { recursive: true });
  const r = createRandom(5);
  const header = 'HR|O2Sat|Temp|SBP|MAP|DBP|Resp|EtCO2|BaseExcess|HCO3|FiO2|pH|PaCO2|SaO2|AST|BUN|Alkalinephos|Calcium|Chloride|Creatinine|Bilirubin_direct|Glucose|Lactate|Magnesium|Phosphate|Potassium|Bilirubin_total|TroponinI|Hct|Hgb|PTT|WBC|Fibrinogen|Platelets|Age|Gender|Unit1|Unit2|HospAdmTime|ICULOS|SepsisLabel';
  for (let s = 0; s < n; s++) {
    const hours = 24 + Math.floor(r.next() * 24);
    const onset = s % 4 === 1 ? 14 + Math.floor(r.next() * (hours - 16)) : Infinity;
    const lines = [header];
    for (let h = 0; h < hours; h++) {
      const sick = Math.max(0, Math.min(1, (h - (onset - 8)) / 8));
      const v = new Array<string>(41).fill('NaN');
      v[0] = String(Math.round(80 + 35 * sick + 8 * r.next()));
      v[1] = String(Math.round(97 - 4 * sick));
      if (h % 4 === 0) v[2] = (36.8 + 1.6 * sick).toFixed(1);
      v[3] = String(Math.round(125 - 25 * sick + 10 * r.next()));
      v[6] = String(Math.round(16 + 9 * sick + 3 * r.next()));
      v[34] = String(40 + (s % 50));
      v[35] = String(s % 2);
      v[36] = s % 2 === 0 ? '1' : '0';
      v[37] = s % 2 === 1 ? '1' : '0';
      v[38] = '-6';
      v[39] = String(h + 1);
      v[40] = h >= onset - 6 ? '1' : '0';
      lines.push(v.join('|'));
    }
    writeFileSync(join(data, `p${900000 + s}.psv`), lines.join('\n') + '\n');
  }
}

const quiet = { write: () => undefined, say: () => undefined };

describe('npm run alerts:replay', () => {
  beforeAll(async () => {
    writeStays(80);
    await trainOnPhysioNet({ path: data, out: model, seed: 3, forest: { nTrees: 15, workers: 1 }, bootstrap: 0, report: null, json: null, createdAt: '2026-01-01T00:00:00.000Z' });
  }, 120_000);

  it('replays only the patients the model never saw, and rebuilds its validation patients from its recorded split', async () => {
    const artifact = await loadModelArtifact(model);
    const [validation, test] = await loadReplayData({ model, data, splits: ['validation', 'test'] });
    expect(validation!.stays.length).toBe(artifact.artifact.provenance!.split!.validation);
    expect(test!.stays.length).toBe(artifact.artifact.provenance!.split!.test);
    for (const s of validation!.stays) expect(sawPatient(artifact.artifact.seenPatients, s.id)).toBe(true);
    for (const s of test!.stays) expect(sawPatient(artifact.artifact.seenPatients, s.id)).toBe(false);
    expect(test!.stays.every((s) => s.rows.every((row, h) => h === 0 || row.at - s.rows[h - 1]!.at === 3_600_000))).toBe(true);
    expect(test!.stays.some((s) => s.onset !== null)).toBe(true);
  });

  it('a subset model (--stays, npm start\'s default): its recorded draw is redrawn from the whole data, and its validation patients replayed', async () => {
    const subsetModel = join(dir, 'subset', 'model.json');
    const sub = await trainOnPhysioNet({ path: data, out: subsetModel, stays: 40, seed: 5, forest: { nTrees: 10, workers: 1 }, bootstrap: 0, report: null, json: null, createdAt: '2026-01-01T00:00:00.000Z' });
    const [validation, test] = await loadReplayData({ model: subsetModel, data, splits: ['validation', 'test'] });
    const expected = sub.split.patients.validation.map((p) => sub.dataset.patients[p]!);
    expect(validation!.stays.map((s) => s.id).sort()).toEqual([...expected].sort());
    expect(validation!.excluded).toBe(80 - expected.length);
    // The test patients: every patient not listed as seen (the subset's and the full split's test patients).
    expect(test!.stays.length).toBe(80 - sub.artifact.seenPatients!.count);
    expect(excludedNote(test!)).toBe(`${sub.artifact.seenPatients!.count} stays the model was trained or tuned on, or that a choice behind it was made on, left out`);

    // An artifact that does not record its draw (the previous default) is refused, saying why.
    const { createdAt, version: _v, contentHash: _h, provenance, ...content } = (await loadModelArtifact(subsetModel)).artifact;
    const { subset: _s, ...unrecorded } = provenance!;
    const old = join(dir, 'subset', 'old.json');
    await saveModelArtifact(old, sealArtifact({ ...content, provenance: unrecorded }, createdAt));
    await expect(loadReplayData({ model: old, data, splits: ['validation'] })).rejects.toThrow(/is a seeded subset of 40 of these 80 stays that does not record its draw \(no provenance\.subset.*\), so its validation patients cannot be redrawn/);
    // The draw checked against the seen patients: another seed draws other patients.
    const other = join(dir, 'subset', 'other.json');
    await saveModelArtifact(other, sealArtifact({ ...content, provenance: { ...provenance!, subset: { ...provenance!.subset!, seed: 6 } } }, createdAt));
    await expect(loadReplayData({ model: other, data, splits: ['validation'] })).rejects.toThrow(/subset \(40 stays, seed 6\) could not be redrawn from this data/);
  }, 120_000);

  it('tunes on validation, writes a valid policy, replays it and NEWS2 ≥ 5 and ≥ 7 on the test patients, and writes JSON and HTML', async () => {
    const lines: string[] = [];
    const out = join(dir, 'out', 'replay.json');
    const tuned = join(dir, 'out', 'tuned.json');
    const said: string[] = [];
    const r = await runReplay({ model, data, policy: 'default', tune: true, writePolicy: tuned, out, horizon: 12, label: 'death-or-icu' }, { write: (l) => lines.push(l), say: (l) => said.push(l) });
    expect(r.results.map((x) => x.policy.name)).toEqual(['default', 'news2-ge5', 'news2-ge7']);
    // The tuned policy names the model its thresholds belong to; the shipped one, replayed on this model, is warned about.
    const about = JSON.parse(readFileSync(out, 'utf8')).model as { name: string; version: string };
    expect((await loadPolicy(tuned)).tunedFor).toEqual({ name: about.name, version: about.version });
    expect(said.filter((l) => l.includes('its probability thresholds are another model'))).toEqual([]);
    const shipped: string[] = [];
    await runReplay({ model, data, policy: 'default', writePolicy: join(dir, 'out', 'unused.json'), out: join(dir, 'out', 'shipped.json'), report: 'none', horizon: 12, label: 'death-or-icu' }, { write: () => undefined, say: (l) => shipped.push(l) });
    expect(shipped).toContainEqual(expect.stringMatching(/^warning: policy default@3 was tuned for severity-rf-physionet@babcd3ef6717; this model is .+: its probability thresholds are another model's/));
    expect(r.tuning!.best.counts.alertsPerPatientDay).toBeLessThanOrEqual(r.tuning!.bound.alertsPerPatientDay + 1e-9);
    expect((await loadPolicy(tuned)).deterioration.enter).toBe(r.policy.deterioration.enter);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json.data.split).toBe('test');
    expect(json.results).toHaveLength(3);
    expect(json.curves.map((c: { name: string }) => c.name)).toContain('NEWS2 ≥ n (n = 3…10)');
    expect(existsSync(r.report!)).toBe(true);
    expect(readFileSync(r.report!, 'utf8')).toContain('How the policy was chosen (validation patients only)');
    expect(lines.some((l) => l.startsWith('news2-ge7@1'))).toBe(true);
  }, 120_000);

  it('tuning progress goes to the progress display when there is one', async () => {
    const seen: { label: string; total: number; unit: string; done: number; stopped: boolean }[] = [];
    const io = {
      ...quiet,
      progress: (o: { label: string; total: number; unit: string }) => {
        const shown = { ...o, done: 0, stopped: false };
        seen.push(shown);
        return { update: (d: number) => void (shown.done = d), increment: () => undefined, stop: () => void (shown.stopped = true) };
      },
    };
    await runReplay({ model, data, policy: 'default', tune: true, writePolicy: join(dir, 'p.json'), out: join(dir, 'p', 'r.json'), report: 'none', horizon: 12, label: 'death-or-icu' }, io);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ label: 'tuning', unit: 'candidates', stopped: true });
    expect(seen[0]!.done).toBe(seen[0]!.total);
  }, 120_000);

  it.each([
    [['--data', 'x'], 2, 'alerts:replay: --model and --data are required'],
    [['--model', 'm', '--data', 'x', '--split', 'train'], 2, "error: option '--split <which>' argument 'train' is invalid. Allowed choices are test, validation."],
    [['--model', 'm', '--data', 'x', '--horizon', 'soon'], 2, "error: option '--horizon <hours>' argument 'soon' is invalid. expected a number from 0 (exclusive) to 168."],
    [['--model', 'm', '--data', 'x', '--tune', '--split', 'validation'], 2, 'alerts:replay: --tune chooses on the validation patients and reports on the test patients: leave out --split'],
    [['--model', 'm', '--data', 'x', '--bogus'], 2, "error: unknown option '--bogus'"],
    [['--help'], 0, ''],
  ])('%j: exit %i, first line %j, and the usage after a usage error', async (argv, code, first) => {
    const out: string[] = [];
    const err: string[] = [];
    expect(await replayCommand(argv, quiet, { out: (t) => void out.push(t), err: (t) => void err.push(t) })).toBe(code);
    expect(err.join('').split('\n')[0]).toBe(first);
    expect((code === 0 ? out : err).join('')).toContain('Usage: alerts:replay');
  });

  it('refuses data it cannot read, saying why (exit 1)', async () => {
    const err: string[] = [];
    expect(await replayCommand(['--model', model, '--data', join(dir, 'nowhere')], quiet, { out: () => undefined, err: (t) => void err.push(t) })).toBe(1);
    expect(err.join('')).toMatch(/^alerts:replay: .*not found/);
  });
});
