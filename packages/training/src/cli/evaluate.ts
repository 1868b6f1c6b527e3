#!/usr/bin/env node
// npm run evaluate -- --model <artifact> --data <PhysioNet parquet | .psv directory | MEDS parquet> [--out <json>] [--report <html>]
import { dirname, join } from 'node:path';
import { CommandFailure, createCommand, decimal, integer, main, Option } from '@ehr/cli';
import { formatClinicalSummary } from '../clinical-summary.js';
import { commandProgress } from '../cli-progress.js';
import { evaluateOnData, type DataKind } from '../evaluate-data.js';

const program = createCommand(
  'evaluate',
  'Scores an existing model on PhysioNet/CinC 2019 data (the packed parquet, a directory of .psv files, or one .psv; label SepsisLabel, every hour scored) or a MEDS parquet such as the MIMIC-IV demo (label: death or ICU transfer within --horizon hours; every feature vector scored), against NEWS2 and qSOFA. Patients the model was trained or tuned on, or that a choice behind it was made on (listed in the artifact), are left out and counted.',
)
  .usage('--model <artifact.json> --data <path> [options]   (npm run evaluate -- …)')
  .option('--model <artifact>', 'the model artifact (.json or .json.gz); required')
  .option('--data <path>', 'PhysioNet data or a MEDS parquet (detected from the file unless --kind says); required')
  .option('--out <file>', 'evaluation JSON (default evaluation-<data name>.json beside the model)')
  .option('--report <file|none>', 'HTML report (default evaluation-<data name>.html beside the model; none = no report)')
  .addOption(new Option('--kind <kind>', 'the data layout').choices(['physionet', 'meds']))
  .option('--horizon <h>', 'MEDS: hours ahead for death or ICU transfer', decimal({ min: 0, exclusiveMin: true, max: 24 * 365 }), 12)
  .addOption(new Option('--label <label>', 'MEDS: death or ICU transfer, or death only').choices(['death-or-icu', 'death']).default('death-or-icu'))
  .option('--bootstrap <n>', 'patient-bootstrap resamples for the intervals', integer({ min: 0 }), 200)
  .option('--seed <n>', 'bootstrap seed', integer({ min: 0, max: 4_294_967_295 }), 1);

await main(program, async (p) => {
  const o = p.opts<{ model?: string; data?: string; out?: string; report?: string; kind?: DataKind; horizon: number; label: 'death-or-icu' | 'death'; bootstrap: number; seed: number }>();
  // Checked here, not by commander, so that an unknown flag is the error named first.
  if (o.model === undefined || o.data === undefined) throw new CommandFailure(`${o.model === undefined ? '--model' : '--data'} is required`, 2);
  const { model, data } = o;
  const stem = data.replace(/\/+$/, '').split('/').pop()!.replace(/\.(parquet|psv)$/i, '');
  const out = o.out ?? join(dirname(model), `evaluation-${stem}.json`);
  const report = o.report === 'none' ? null : (o.report ?? join(dirname(model), `evaluation-${stem}.html`));
  const started = performance.now();
  const progress = commandProgress();
  const r = await evaluateOnData({
    model,
    data,
    ...(o.kind ? { kind: o.kind } : {}),
    json: out,
    report,
    horizonHours: o.horizon,
    deathOnly: o.label === 'death',
    bootstrap: o.bootstrap,
    seed: o.seed,
    warn: (m) => process.stderr.write(`warning: ${m}\n`),
    onStage: (s) => progress.stage(s),
    progress,
  }).finally(() => progress.done());
  process.stdout.write(
    `model ${r.model.name}@${r.model.version} (${r.model.artifact.label?.name ?? 'label not recorded'}) on ${r.evaluatedOn}\n` +
      `label: ${r.labelDescription}\n${formatClinicalSummary(r.evaluation)}\n` +
      `evaluation: ${out}\n${report ? `report: ${report}\n` : ''}in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
});
