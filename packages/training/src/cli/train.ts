#!/usr/bin/env node
// npm run train -- [--data <dir> | --meds <parquet> | --physionet [path] | --synthetic …] [--out <file>] [--seed <n>] [--trees <n>] …
// Arguments are read and checked before any data is (args.ts); progress goes to stderr, the result to stdout.
import { performance } from 'node:perf_hooks';
import { main } from '@ehr/cli';
import { trainCommand, trainCommandOf, trainProgram } from '../args.js';
import { formatClinicalSummary } from '../clinical-summary.js';
import { commandProgress } from '../cli-progress.js';
import { crossValidate } from '../cross-validate.js';
import type { Evaluation } from '../evaluate.js';
import { evaluateModel } from '../evaluate-model.js';
import { trainOnPhysioNet } from '../physionet-train.js';
import { trainModel } from '../train.js';

const write = (text: string) => void process.stdout.write(text);

function summary(e: Evaluation): string {
  const ci = (i: { low: number; high: number } | undefined) => (i ? ` [${i.low.toFixed(3)}, ${i.high.toFixed(3)}]` : '');
  return [
    `  ${e.rows} rows, ${e.patients} patients, ${e.positives} positive rows (${((e.positives / e.rows) * 100).toFixed(1)} %)`,
    `  model : AUROC ${e.model.auroc.toFixed(3)}${ci(e.model.ci?.auroc)}  AUPRC ${e.model.auprc.toFixed(3)}${ci(e.model.ci?.auprc)}  Brier ${e.model.brier.toFixed(4)}  ECE ${e.model.ece.toFixed(4)}`,
    `  NEWS2 : AUROC ${e.news2.auroc.toFixed(3)}${ci(e.news2.ci?.auroc)}  AUPRC ${e.news2.auprc.toFixed(3)}${ci(e.news2.ci?.auprc)}  Brier ${e.news2.brier.toFixed(4)}  ECE ${e.news2.ece.toFixed(4)}`,
    `  model − NEWS2: AUROC ${e.difference.auroc >= 0 ? '+' : ''}${e.difference.auroc.toFixed(3)}${ci(e.difference.ci?.auroc)}, AUPRC ${e.difference.auprc >= 0 ? '+' : ''}${e.difference.auprc.toFixed(3)}${ci(e.difference.ci?.auprc)}`,
  ].join('\n');
}

await main(trainProgram(), async (program) => {
  const argv = process.argv.slice(2);
  const command = trainCommandOf(program, process.env);
  const progress = commandProgress();
  const started = performance.now();
  // createdAt is the one field outside the content hash: the printed command carries it.
  const env: Record<string, string> = process.env.SOURCE_DATE_EPOCH ? { SOURCE_DATE_EPOCH: process.env.SOURCE_DATE_EPOCH } : {};
  try {
    if (command.mode === 'evaluate') {
      const r = await evaluateModel({ ...command.options, progress });
      progress.done();
      write(`model ${r.model.version} on ${r.dataset.sourceDescription} (${r.dataset.labelDescription}):\n${summary(r.evaluation)}\nreport: ${r.reportPath}\n`);
    } else if (command.mode === 'cross-validate') {
      const r = await crossValidate({ ...command.options, progress, reproduce: trainCommand(argv) });
      progress.done();
      write(
        `${command.options.folds}-fold cross-validation by patient on ${r.dataset.sourceDescription} (${r.dataset.labelDescription}):\n` +
          `  per fold AUROC model / NEWS2: ${r.folds.map((f) => `${f.auroc.toFixed(3)} / ${f.news2Auroc.toFixed(3)}`).join(', ')}\n` +
          `pooled:\n${summary(r.evaluation)}\nreport: ${r.reportPath}\n`,
      );
    } else if (command.mode === 'train-physionet') {
      const r = await trainOnPhysioNet({ ...command.options, progress, reproduce: trainCommand(argv, env), warn: (m) => void process.stderr.write(`warning: ${m}\n`) });
      progress.done();
      write(
        `model ${r.modelPath}: version ${r.artifact.version}, ${r.artifact.hyperparameters.nTrees} trees, ${r.artifact.featureNames.length} features, in ${((performance.now() - started) / 1000).toFixed(1)} s\n` +
          `data: ${r.artifact.provenance!.description}; splits by patient: ${r.splits.map((s) => `${s.name} ${s.patients} patients / ${s.rows} hours`).join('; ')}\n` +
          `timings: ${r.timings.map((t) => `${t.label} ${t.seconds.toFixed(1)} s`).join('; ')}\n` +
          `test patients (never seen in training or validation):\n${formatClinicalSummary(r.evaluation)}\n` +
          (r.reportPath ? `report: ${r.reportPath}\n` : '') +
          (r.jsonPath ? `evaluation: ${r.jsonPath}\n` : ''),
      );
    } else {
      const r = await trainModel({ ...command.options, progress, reproduce: trainCommand(argv, env) });
      progress.done();
      write(
        `model ${r.modelPath}: version ${r.artifact.version} (content hash ${r.artifact.contentHash}), ` +
          `${r.artifact.hyperparameters.nTrees} trees, ${r.artifact.featureNames.length} features, in ${((performance.now() - started) / 1000).toFixed(1)} s\n` +
          `splits by patient: ${r.splits.map((s) => `${s.name} ${s.rows} rows / ${s.patients} patients / ${s.positives} positive`).join('; ')}\n` +
          `test set against NEWS2 (${r.dataset.labelDescription}):\n${summary(r.evaluation)}\n` +
          (r.reportPath ? `report: ${r.reportPath}\n` : '') +
          (r.exportPath ? `ml-random-forest: ${r.exportPath}\n` : ''),
      );
    }
  } finally {
    progress.done();
  }
});
