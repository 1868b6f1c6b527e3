// What `npm run alerts:replay` does, as a function of its arguments (the CLI is its entry
// point; the tests call it directly): load the data once, optionally tune on the
// validation patients, replay the policy beside NEWS2 ≥ 5 and ≥ 7, write JSON and HTML.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPolicy, type AlertPolicy } from '../policy.js';
import { loadReplayData, type ReplayData, type ReplaySplit } from './replay-data.js';
import { renderReplayReport, type CurveSeries } from './replay-report.js';
import { replayPolicy, type ReplayResult } from './replay.js';
import { policyCurve, tunePolicy, type TuningResult } from './tune.js';

export const REPLAY_USAGE = `usage: npm run alerts:replay -- --model <artifact.json> --data <path> [--policy <file.json|default|news2-ge5|news2-ge7>]
                                [--split test|validation] [--tune [--write-policy <file.json>]] [--out <file.json>] [--report <file.html|none>]
                                [--horizon 12] [--label death-or-icu|death]
  --data      PhysioNet/CinC 2019 (the packed parquet or a .psv directory; onset = first SepsisLabel + 6 h, every hour scored)
              or a MEDS parquet such as the MIMIC-IV demo (death or ICU transfer within --horizon h; the last vector of each hour)
  --policy    the policy to replay (default: the shipped default); NEWS2 ≥ 5 and ≥ 7 are always replayed beside it
  --split     test (default): patients the model never saw; validation: the model's validation patients (its recorded split)
  --tune      choose a policy on the validation patients (grid over enter, exit, persistence, re-alert), write it to
              --write-policy (default data/alerts/tuned-policy.json), then replay it on the test patients
  --out       JSON (default data/alerts/replay-<data name>.json); --report HTML (default beside it; none = no report)`;

export interface ReplayCommandIo {
  /** The results, for a person. */
  write: (line: string) => void;
  /** Progress. */
  say: (line: string) => void;
}

export interface ReplayCommandResult {
  results: ReplayResult[];
  policy: AlertPolicy;
  tuning: TuningResult | null;
  json: string;
  report: string | null;
  tunedPolicy: string | null;
}

function curvesFor(stays: ReplayData['stays'], policy: AlertPolicy, news2Ge5: AlertPolicy): CurveSeries[] {
  const d = policy.deterioration;
  const factors = [0.25, 0.35, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.15, 1.3, 1.5, 1.75, 2, 2.5, 3, 4];
  const thresholds = d.signal === 'probability' ? factors.map((f) => Math.min(1, Math.round(d.enter * f * 10_000) / 10_000)) : [3, 4, 5, 6, 7, 8, 9, 10];
  const plain: AlertPolicy = { ...policy, deterioration: { ...d, exit: d.enter, persistence: 1, reAlert: { rise: null, withinHours: 0 } } };
  return [
    { name: `${policy.name} (enter varied)`, color: '#1f6feb', points: policyCurve(stays, policy, thresholds) },
    { name: `${d.signal === 'probability' ? 'model' : 'NEWS2'} threshold alone`, color: '#8957e5', dashed: true, points: policyCurve(stays, plain, thresholds) },
    { name: 'NEWS2 ≥ n (n = 3…10)', color: '#cf222e', points: policyCurve(stays, news2Ge5, [3, 4, 5, 6, 7, 8, 9, 10]) },
  ];
}

export function formatReplayRow(r: ReplayResult): string {
  const p = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)} %`);
  const rm = r.removed;
  return (
    `${`${r.policy.name}@${r.policy.version}`.padEnd(20)} alerts/patient-day ${r.alertsPerPatientDay.toFixed(3)} · sensitivity per stay ${p(r.sensitivity)} (${r.staysAlerted}/${r.eventStays})` +
    ` · PPV ${p(r.ppv)} (${r.inTime}/${r.alerts}) · median lead ${r.medianLeadHours === null ? '–' : r.medianLeadHours.toFixed(1)} h` +
    ` · removed: persistence ${rm.persistence}, hysteresis ${rm.hysteresis}, re-alert ${rm.reAlert}, budget ${rm.budget ?? r.budget} (threshold alone: ${rm.thresholdOnlyAlerts})` +
    ` · overdue ${r.overduePerPatientDay.toFixed(3)}/patient-day`
  );
}

/** Runs the command; throws with a message for a person on bad arguments or data. Returns null after --help. */
export async function replayCommand(argv: readonly string[], io: ReplayCommandIo): Promise<ReplayCommandResult | null> {
  const { values: v } = parseArgs({
    args: [...argv],
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      policy: { type: 'string' },
      split: { type: 'string' },
      tune: { type: 'boolean' },
      'write-policy': { type: 'string' },
      out: { type: 'string' },
      report: { type: 'string' },
      horizon: { type: 'string' },
      label: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (v.help) {
    io.write(REPLAY_USAGE);
    return null;
  }
  if (!v.model || !v.data) throw new Error('--model and --data are required');
  if (v.split !== undefined && v.split !== 'test' && v.split !== 'validation') throw new Error(`--split must be test or validation, got '${v.split}'`);
  if (v.label !== undefined && v.label !== 'death' && v.label !== 'death-or-icu') throw new Error(`--label must be death-or-icu or death (MEDS), got '${v.label}'`);
  if (v.tune && v.split === 'validation') throw new Error('--tune chooses on the validation patients and reports on the test patients: leave out --split');
  const horizon = v.horizon === undefined ? 12 : Number(v.horizon);
  if (!(horizon > 0)) throw new Error(`--horizon: '${v.horizon}' is not a number of hours`);
  const split: ReplaySplit = v.split === 'validation' ? 'validation' : 'test';
  const started = performance.now();

  const [news2Ge5, news2Ge7] = await Promise.all([loadPolicy('news2-ge5'), loadPolicy('news2-ge7')]);
  let policy = await loadPolicy(v.policy ?? 'default');
  const loaded = await loadReplayData({
    model: v.model,
    data: v.data,
    splits: v.tune ? ['validation', 'test'] : [split],
    horizonHours: horizon,
    deathOnly: v.label === 'death',
    onStage: (s) => io.say(`${s}…`),
    warn: (m) => io.say(`warning: ${m}`),
  });
  const data = loaded.at(-1)!;

  let tuning: (TuningResult & { description: string }) | null = null;
  let tunedPolicy: string | null = null;
  if (v.tune) {
    const validation = loaded[0]!;
    io.say(`tuning on ${validation.stays.length} validation stays…`);
    const tuned = tunePolicy(validation.stays, policy, news2Ge7, (done, total) => {
      if (done % 20 === 0 || done === total) io.say(`  ${done}/${total} candidates`);
    });
    policy = { ...tuned.policy, version: `tuned-${data.model.version.slice(0, 12)}` };
    tunedPolicy = v['write-policy'] ?? join('data', 'alerts', 'tuned-policy.json');
    await mkdir(dirname(tunedPolicy), { recursive: true });
    await writeFile(tunedPolicy, `${JSON.stringify(policy, null, 2)}\n`);
    io.say(`tuned policy: ${tunedPolicy}`);
    tuning = { ...tuned, policy, description: validation.description };
  }

  io.say(`replaying ${policy.name}, NEWS2 ≥ 5 and NEWS2 ≥ 7 on ${data.stays.length} stays…`);
  const results = [policy, news2Ge5, news2Ge7].map((p) => replayPolicy(data.stays, p, { budget: data.realDates }));
  const curves = curvesFor(data.stays, policy, news2Ge5);

  const stem = v.data.replace(/\/+$/, '').split('/').pop()!.replace(/\.(parquet|psv)$/i, '');
  const out = v.out ?? join('data', 'alerts', `replay-${stem}.json`);
  const report = v.report === 'none' ? null : (v.report ?? out.replace(/\.json$/, '') + '.html');
  const command = `npm run alerts:replay -- ${argv.join(' ')}`;
  const { stays: _stays, ...about } = data;
  const json = {
    model: data.model,
    data: { ...about, path: v.data, stays: data.stays.length },
    policy,
    results,
    curves: curves.map((c) => ({ name: c.name, points: c.points.map((p) => ({ threshold: p.threshold, alertsPerPatientDay: p.counts.alertsPerPatientDay, sensitivity: p.counts.sensitivity, ppv: p.counts.ppv })) })),
    tuning,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    command,
  };
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(json, null, 1)}\n`);
  if (report) {
    await mkdir(dirname(report), { recursive: true });
    await writeFile(report, renderReplayReport({ data, results, curves, tuning, command }));
  }
  io.write(`model ${data.model.name}@${data.model.version} on ${data.description}`);
  io.write(`outcome: ${data.label}`);
  for (const r of results) io.write(formatReplayRow(r));
  io.write(`replay: ${out}${report ? `\nreport: ${report}` : ''}\nin ${json.seconds} s`);
  return { results, policy, tuning, json: out, report, tunedPolicy };
}
