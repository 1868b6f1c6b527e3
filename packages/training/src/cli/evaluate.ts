#!/usr/bin/env node
// npm run evaluate -- --model <artifact> --data <PhysioNet parquet | .psv directory | MEDS parquet> [--out <json>] [--report <html>]
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatClinicalSummary } from '../clinical-summary.js';
import { evaluateOnData } from '../evaluate-data.js';

const USAGE = `usage: npm run evaluate -- --model <artifact.json> --data <path> [--out <file.json>] [--report <file.html>]
                            [--kind physionet|meds] [--horizon 12] [--label death-or-icu|death] [--bootstrap 200] [--seed 1]
  --data     PhysioNet/CinC 2019 data (the packed parquet, a directory of .psv files, or one .psv; label SepsisLabel,
             every hour scored) or a MEDS parquet such as the MIMIC-IV demo (label: death or ICU transfer within
             --horizon hours; every feature vector scored). Detected from the file unless --kind says.
  --out      evaluation JSON (default evaluation-<data name>.json beside the model)
  --report   HTML report (default evaluation-<data name>.html beside the model; none = no report)
Patients the model was trained or tuned on (listed in the artifact) are left out and counted.`;

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      out: { type: 'string' },
      report: { type: 'string' },
      kind: { type: 'string' },
      horizon: { type: 'string' },
      label: { type: 'string' },
      bootstrap: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!v.model || !v.data) throw new Error('--model and --data are required');
  if (v.kind !== undefined && v.kind !== 'physionet' && v.kind !== 'meds') throw new Error(`--kind must be physionet or meds, got '${v.kind}'`);
  if (v.label !== undefined && v.label !== 'death' && v.label !== 'death-or-icu') throw new Error(`--label must be death-or-icu or death (MEDS), got '${v.label}'`);
  const number = (name: string, text: string | undefined, fallback: number) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: '${text}' is not valid`);
    return n;
  };
  const stem = v.data.replace(/\/+$/, '').split('/').pop()!.replace(/\.(parquet|psv)$/i, '');
  const out = v.out ?? join(dirname(v.model), `evaluation-${stem}.json`);
  const report = v.report === 'none' ? null : (v.report ?? join(dirname(v.model), `evaluation-${stem}.html`));
  const started = performance.now();
  const r = await evaluateOnData({
    model: v.model,
    data: v.data,
    ...(v.kind ? { kind: v.kind } : {}),
    json: out,
    report,
    horizonHours: number('horizon', v.horizon, 12),
    deathOnly: v.label === 'death',
    bootstrap: number('bootstrap', v.bootstrap, 200),
    seed: number('seed', v.seed, 1),
    warn: (m) => process.stderr.write(`warning: ${m}\n`),
    onStage: (s) => process.stderr.write(`${s}…\n`),
  });
  process.stdout.write(
    `model ${r.model.name}@${r.model.version} (${r.model.artifact.label?.name ?? 'label not recorded'}) on ${r.evaluatedOn}\n` +
      `label: ${r.labelDescription}\n${formatClinicalSummary(r.evaluation)}\n` +
      `evaluation: ${out}\n${report ? `report: ${report}\n` : ''}in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`evaluate: ${err instanceof Error ? err.message : String(err)}\n(npm run evaluate -- --help for usage)\n`);
  process.exit(1);
});
