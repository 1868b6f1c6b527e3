// The evaluation report: one self-contained HTML file (inline CSS and SVG, no script, no
// network) with the model against NEWS2 on the same test rows.
import type { Evaluation, Interval, ScorerEvaluation } from './evaluate.js';
import { PLOT_STYLE, reportHead, TEXT_STYLE } from './report-page.js';
import { barChart, escapeHtml, linePlot } from './svg.js';

export interface SplitSummary {
  name: string;
  rows: number;
  patients: number;
  positives: number;
}

export interface ReportInput {
  title: string;
  model: {
    name: string;
    version: string;
    contentHash: string;
    createdAt: string;
    featureSchemaVersion: string;
    features: number;
    seed: number;
    hyperparameters: Record<string, unknown>;
    calibration: string;
    bands: { rule: string; medium: number; high: number; targets: { medium: number; high: number } } | null;
    importance: { feature: string; importance: number }[];
  };
  data: {
    source: string;
    label: string;
    splits: SplitSummary[];
    events: number;
    vectors: number;
    rejected: number;
    unlabelled: number;
  };
  /** What was evaluated: e.g. "test split (patients never seen in training)". */
  evaluatedOn: string;
  evaluation: Evaluation;
  timings: { label: string; seconds: number }[];
  notes: string[];
  reproduce: string | null;
}

const MODEL_COLOR = '#c0392b';
const NEWS2_COLOR = '#2c7fb8';

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '–');
const f4 = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : '–');
const ci4 = (i: Interval | undefined) => (i ? ` <span class="ci">[${f4(i.low)}, ${f4(i.high)}]</span>` : '');
const ci = (i: Interval | undefined) => (i ? ` <span class="ci">[${f3(i.low)}, ${f3(i.high)}]</span>` : '');
const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : '–');

function metricsTable(e: Evaluation): string {
  const row = (name: string, s: Pick<ScorerEvaluation, 'auroc' | 'auprc' | 'brier' | 'ece'> & { ci?: ScorerEvaluation['ci'] }) =>
    `<tr><th>${escapeHtml(name)}</th><td>${f3(s.auroc)}${ci(s.ci?.auroc)}</td><td>${f3(s.auprc)}${ci(s.ci?.auprc)}</td><td>${f4(s.brier)}${ci4(s.ci?.brier)}</td><td>${f4(s.ece)}</td></tr>`;
  const d = e.difference;
  return `<table class="metrics" id="metrics">
<thead><tr><th></th><th>AUROC</th><th>AUPRC</th><th>Brier</th><th>ECE (10 bins)</th></tr></thead>
<tbody>
${row('Random Forest (calibrated, as served)', e.model)}
${row('Random Forest (raw forest probability)', e.modelRaw)}
${row('NEWS2 (points; Brier/ECE of its event rate per score)', e.news2)}
<tr class="diff"><th>Model − NEWS2</th><td>${d.auroc >= 0 ? '+' : ''}${f3(d.auroc)}${ci(d.ci?.auroc)}</td><td>${d.auprc >= 0 ? '+' : ''}${f3(d.auprc)}${ci(d.ci?.auprc)}</td><td></td><td></td></tr>
</tbody></table>
<p class="small">Brackets: 95 % patient-level bootstrap intervals (${e.bootstrap.resamples} resamples of whole patients${e.bootstrap.skipped ? `, ${e.bootstrap.skipped} without both classes skipped` : ''}). Prevalence ${pct(e.positives / e.rows)} (${e.positives} of ${e.rows} rows; ${e.patientsWithPositives} of ${e.patients} patients have a positive row); an uninformative score has AUPRC ≈ prevalence. NEWS2's probability mapping was fitted on the ${e.news2Calibration} rows.</p>`;
}

function verdict(e: Evaluation): string {
  const d = e.difference;
  const lo = d.ci?.auroc.low;
  const hi = d.ci?.auroc.high;
  let text: string;
  if (lo !== undefined && hi !== undefined && lo > 0) text = `The model ranks better than NEWS2 on these rows: AUROC ${f3(e.model.auroc)} vs ${f3(e.news2.auroc)}, and the 95 % interval of the difference excludes 0.`;
  else if (lo !== undefined && hi !== undefined && hi < 0) text = `The model does NOT beat NEWS2 here: NEWS2 ranks better (AUROC ${f3(e.news2.auroc)} vs ${f3(e.model.auroc)}), and the interval of the difference excludes 0.`;
  else text = `No clear winner on ranking: AUROC ${f3(e.model.auroc)} (model) vs ${f3(e.news2.auroc)} (NEWS2), and the 95 % interval of the difference includes 0${d.ci ? '' : ' (no bootstrap)'}.`;
  const cal = e.model.brier <= e.news2.brier ? `Its Brier score is lower (${f4(e.model.brier)} vs ${f4(e.news2.brier)}).` : `Its Brier score is higher than NEWS2's event-rate mapping (${f4(e.model.brier)} vs ${f4(e.news2.brier)}).`;
  return `<p class="verdict" id="verdict">${escapeHtml(text)} ${escapeHtml(cal)}</p>`;
}

function confusionTables(s: ScorerEvaluation): string {
  return s.confusion
    .map(
      ({ label, matrix: m }) => `<table class="confusion">
<caption>${escapeHtml(s.name)}: ${escapeHtml(label)}</caption>
<thead><tr><th></th><th>flagged</th><th>not flagged</th></tr></thead>
<tbody><tr><th>event</th><td>${m.tp}</td><td>${m.fn}</td></tr><tr><th>no event</th><td>${m.fp}</td><td>${m.tn}</td></tr></tbody>
<tfoot><tr><td colspan="3">sensitivity ${pct(m.sensitivity)} · specificity ${pct(m.specificity)} · PPV ${pct(m.ppv)} · alert rate ${pct(m.alertRate)}</td></tr></tfoot>
</table>`,
    )
    .join('\n');
}

function kv(rows: [string, string][]): string {
  return `<table class="kv">${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`;
}

const STYLE = `body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; max-width: 1100px; margin: 24px auto; padding: 0 16px; }
${TEXT_STYLE}
table { border-collapse: collapse; margin: 8px 0; } th, td { padding: 4px 10px; border: 1px solid #ddd; text-align: left; vertical-align: top; }
table.metrics td { font-variant-numeric: tabular-nums; } tr.diff { background: #fafafa; }
.plots { display: flex; flex-wrap: wrap; gap: 12px; } .confusions { display: flex; flex-wrap: wrap; gap: 16px; }
table.confusion caption { text-align: left; font-weight: 600; padding-bottom: 4px; } table.confusion tfoot td { color: #555; font-size: 12px; }
${PLOT_STYLE}
code { background: #f3f3f3; padding: 1px 4px; } ul.notes li { margin: 4px 0; }`;

export function renderReport(r: ReportInput): string {
  const e = r.evaluation;
  const roc = linePlot({
    title: 'ROC curve',
    xLabel: 'false positive rate (1 − specificity)',
    yLabel: 'true positive rate (sensitivity)',
    diagonal: true,
    series: [
      { name: `Random Forest (${f3(e.model.auroc)})`, color: MODEL_COLOR, points: e.model.roc.map((p) => [p.fpr, p.tpr]) },
      { name: `NEWS2 (${f3(e.news2.auroc)})`, color: NEWS2_COLOR, points: e.news2.roc.map((p) => [p.fpr, p.tpr]) },
    ],
  });
  const pr = linePlot({
    title: 'Precision–recall curve',
    xLabel: 'recall (sensitivity)',
    yLabel: 'precision (PPV)',
    hline: { y: e.positives / e.rows, label: `prevalence ${pct(e.positives / e.rows)}` },
    series: [
      { name: `Random Forest (${f3(e.model.auprc)})`, color: MODEL_COLOR, points: e.model.pr.map((p) => [p.recall, p.precision]) },
      { name: `NEWS2 (${f3(e.news2.auprc)})`, color: NEWS2_COLOR, points: e.news2.pr.map((p) => [p.recall, p.precision]) },
    ],
  });
  // Zoom in when every prediction and rate is small (rare outcomes), else the curve is a dot.
  const calPoints = [...e.model.reliability, ...e.news2.reliability];
  const calMax = Math.max(...calPoints.map((b) => Math.max(b.meanPredicted, b.fractionPositive)), 0);
  // Five round ticks: the range is 5 × the smallest step of 1, 2 or 5 × 10^k that holds every point.
  const step = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05].find((st) => 5 * st >= calMax * 1.05);
  const calRange = calMax < 0.2 && step !== undefined ? 5 * step : 1;
  const calibration = linePlot({
    title: `Calibration (deciles of predicted probability)${calRange < 1 ? ', zoomed' : ''}`,
    range: calRange,
    xLabel: 'mean predicted probability',
    yLabel: 'observed event rate',
    diagonal: true,
    series: [
      { name: `Random Forest (ECE ${f3(e.model.ece)})`, color: MODEL_COLOR, markers: true, points: e.model.reliability.map((b) => [b.meanPredicted, b.fractionPositive]) },
      { name: `NEWS2 rate (ECE ${f3(e.news2.ece)})`, color: NEWS2_COLOR, markers: true, dashed: true, points: e.news2.reliability.map((b) => [b.meanPredicted, b.fractionPositive]) },
    ],
  });
  const importance = barChart(
    `Feature importance (mean decrease in impurity, top ${Math.min(25, r.model.importance.length)} of ${r.model.features})`,
    r.model.importance.slice(0, 25).map((x) => ({ label: x.feature, value: x.importance })),
  );
  const bins = e.model.calibration
    .map((b) => `<tr><td>${b.lower.toFixed(1)}–${b.upper.toFixed(1)}</td><td>${b.count}</td><td>${f3(b.meanPredicted)}</td><td>${f3(b.fractionPositive)}</td></tr>`)
    .join('');
  const hp = Object.entries(r.model.hyperparameters).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)] as [string, string]);
  return `${reportHead(r.title, STYLE)}
<body>
<h1>${escapeHtml(r.title)}</h1>
<p class="small">Model <code>${escapeHtml(r.model.name)}</code> version <code>${escapeHtml(r.model.version)}</code> · content hash <code>${escapeHtml(r.model.contentHash)}</code> · created ${escapeHtml(r.model.createdAt)} · feature set ${escapeHtml(r.model.featureSchemaVersion)} (${r.model.features} features)</p>

<h2>Model against NEWS2 on the same rows</h2>
<p>Evaluated on: ${escapeHtml(r.evaluatedOn)}. Label: ${escapeHtml(r.data.label)}.</p>
${verdict(e)}
${metricsTable(e)}

<h2>Curves</h2>
<div class="plots">
<figure id="roc">${roc}</figure>
<figure id="pr">${pr}</figure>
<figure id="calibration">${calibration}</figure>
</div>
<details><summary>Calibration bins of the ECE (model, 10 equal-width bins)</summary><table><thead><tr><th>bin</th><th>rows</th><th>mean predicted</th><th>observed rate</th></tr></thead><tbody>${bins}</tbody></table></details>

<h2>Confusion matrices at the operating thresholds</h2>
<p class="small">Model: the artifact's band thresholds (${r.model.bands ? `${escapeHtml(r.model.bands.rule)} rule, targets medium ${r.model.bands.targets.medium}, high ${r.model.bands.targets.high}, chosen on the validation rows` : 'none'}); NEWS2: its clinical thresholds.</p>
<div class="confusions">
${confusionTables(e.model)}
${confusionTables(e.news2)}
</div>

${r.model.importance.length ? `<h2>Feature importance</h2>
<figure id="importance">${importance}</figure>` : ''}

<h2>Data</h2>
${kv([
  ['source', r.data.source],
  ['label', r.data.label],
  ['events read', String(r.data.events)],
  ['feature vectors', String(r.data.vectors)],
  ['events rejected (dead letters)', String(r.data.rejected)],
  ['vectors without a label (left out)', String(r.data.unlabelled)],
])}
<table><thead><tr><th>split</th><th>rows</th><th>patients</th><th>positive rows</th></tr></thead><tbody>
${r.data.splits.map((s) => `<tr><th>${escapeHtml(s.name)}</th><td>${s.rows}</td><td>${s.patients}</td><td>${s.positives} (${pct(s.positives / Math.max(1, s.rows))})</td></tr>`).join('\n')}
</tbody></table>
<p class="small">Split by patient: no patient has rows in two splits.</p>

<h2>Model</h2>
${kv([['seed', String(r.model.seed)], ['calibration', r.model.calibration], ...(r.model.bands ? ([['band thresholds', `medium ≥ ${f3(r.model.bands.medium)}, high ≥ ${f3(r.model.bands.high)}`]] as [string, string][]) : []), ...hp])}
${r.timings.length ? `<h2>Timings</h2>${kv(r.timings.map((t) => [t.label, `${t.seconds.toFixed(2)} s`]))}` : ''}
${r.reproduce ? `<h2>Reproduce</h2><p><code>${escapeHtml(r.reproduce)}</code></p><p class="small">Same arguments, same content hash.</p>` : ''}
${r.notes.length ? `<h2>Notes</h2><ul class="notes">${r.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : ''}
</body>
</html>
`;
}
