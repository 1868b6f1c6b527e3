// What `npm run alerts:replay` does, as a function of its arguments (the CLI is its entry
// point; the tests call it directly): load the data once, optionally tune on the
// validation patients, replay the policy beside NEWS2 ≥ 5 and ≥ 7, write JSON and HTML.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CommandFailure, createCommand, decimal, Option, runCommand, type Command, type CommandOutput, type Progress } from '@ehr/cli';
import { loadPolicy, type AlertPolicy } from '@ehr/alerts';
import { loadReplayData, type ReplayData, type ReplaySplit } from './replay-data.js';
import { excludedNote, renderReplayReport, type CurveSeries } from './replay-report.js';
import { replayPolicy, type ReplayResult } from './replay.js';
import { policyCurve, tunePolicy, type TuningResult } from './tune.js';

/** The arguments of `npm run alerts:replay`, checked before any data is read. */
export function createReplayProgram(output?: CommandOutput): Command {
  return createCommand('alerts:replay', 'Replays an alert policy beside NEWS2 ≥ 5 and ≥ 7 on patients the model never saw; writes JSON and an HTML report.', output)
    .usage('--model <artifact.json> --data <path> [options]   (npm run alerts:replay -- …)')
    .option('--model <artifact.json>', 'the model artifact (its recorded split says which patients it saw)')
    .option(
      '--data <path>',
      'PhysioNet/CinC 2019 (the packed parquet or a .psv directory; onset = first SepsisLabel + 6 h, every hour scored) or a MEDS parquet such as the MIMIC-IV demo (death or ICU transfer within --horizon h; the last vector of each hour)',
    )
    .option('--policy <file.json|name>', 'the policy to replay: a file, default, news2-ge5 or news2-ge7 (NEWS2 ≥ 5 and ≥ 7 are always replayed beside it)', 'default')
    .addOption(new Option('--split <which>', "test: patients the model never saw; validation: the model's validation patients (its recorded split)").choices(['test', 'validation']))
    .option('--tune', 'choose a policy on the validation patients (grid over enter, exit, persistence, re-alert), write it, then replay it on the test patients')
    .option('--write-policy <file.json>', 'where --tune writes the policy it chose', join('data', 'alerts', 'tuned-policy.json'))
    .option('--out <file.json>', 'the JSON results (default data/alerts/replay-<data name>.json)')
    .option('--report <file.html|none>', 'the HTML report (default beside --out; none = no report)')
    .option('--horizon <hours>', 'MEDS: the outcome counts within this many hours', decimal({ min: 0, max: 168, exclusiveMin: true }), 12)
    .addOption(new Option('--label <outcome>', 'MEDS: the outcome').choices(['death-or-icu', 'death']).default('death-or-icu'));
}

export interface ReplayOptions {
  model?: string;
  data?: string;
  policy: string;
  split?: ReplaySplit;
  tune?: boolean;
  writePolicy: string;
  out?: string;
  report?: string;
  horizon: number;
  label: 'death-or-icu' | 'death';
}

export interface ReplayCommandIo {
  /** The results, for a person. */
  write: (line: string) => void;
  /** Progress. */
  say: (line: string) => void;
  /** A progress display for the tuning (a bar on a terminal); without it, a line every 20 candidates. */
  progress?: (options: { label: string; total: number; unit: string }) => Progress;
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

/** Runs the command on `argv` (without node and the script); resolves the exit code. */
export async function replayCommand(argv: readonly string[], io: ReplayCommandIo, output?: CommandOutput): Promise<number> {
  const program = createReplayProgram(output);
  return runCommand(program, argv, async (p) => void (await runReplay(p.opts<ReplayOptions>(), io, argv)), output);
}

/** The replay itself; throws with a message for a person on options that do not go together or bad data. */
export async function runReplay(v: ReplayOptions, io: ReplayCommandIo, argv: readonly string[] = []): Promise<ReplayCommandResult> {
  // Required, but checked here rather than by commander, which would name a missing option before an unknown one.
  if (!v.model || !v.data) throw new CommandFailure('--model and --data are required', 2);
  if (v.tune && v.split === 'validation') throw new CommandFailure('--tune chooses on the validation patients and reports on the test patients: leave out --split', 2);
  const horizon = v.horizon;
  const split: ReplaySplit = v.split === 'validation' ? 'validation' : 'test';
  const started = performance.now();

  const [news2Ge5, news2Ge7] = await Promise.all([loadPolicy('news2-ge5'), loadPolicy('news2-ge7')]);
  let policy = await loadPolicy(v.policy);
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
    let bar = null as Progress | null; // created on the first report, when the number of candidates is known
    const tuned = tunePolicy(validation.stays, policy, news2Ge7, (done, total) => {
      if (io.progress) (bar ??= io.progress({ label: 'tuning', total, unit: 'candidates' })).update(done);
      else if (done % 20 === 0 || done === total) io.say(`  ${done}/${total} candidates`);
    });
    bar?.stop();
    // Its thresholds are this model's probabilities: alerting warns when another model scores.
    policy = { ...tuned.policy, version: `tuned-${data.model.version.slice(0, 12)}`, tunedFor: { name: data.model.name, version: data.model.version } };
    tunedPolicy = v.writePolicy;
    await mkdir(dirname(tunedPolicy), { recursive: true });
    await writeFile(tunedPolicy, `${JSON.stringify(policy, null, 2)}\n`);
    io.say(`tuned policy: ${tunedPolicy}`);
    tuning = { ...tuned, policy, description: validation.description };
  }

  const tunedFor = policy.tunedFor;
  if (tunedFor && policy.deterioration.signal === 'probability' && (tunedFor.name !== data.model.name || tunedFor.version !== data.model.version)) {
    io.say(`warning: policy ${policy.name}@${policy.version} was tuned for ${tunedFor.name}@${tunedFor.version}; this model is ${data.model.name}@${data.model.version}: its probability thresholds are another model's (--tune for this one)`);
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
  io.write(`model ${data.model.name}@${data.model.version} on ${data.description}${data.excluded ? ` (${excludedNote(data)})` : ''}`);
  io.write(`outcome: ${data.label}`);
  for (const r of results) io.write(formatReplayRow(r));
  io.write(`replay: ${out}${report ? `\nreport: ${report}` : ''}\nin ${json.seconds} s`);
  return { results, policy, tuning, json: out, report, tunedPolicy };
}
