// The real-data report: one self-contained HTML file (inline CSS and SVG, no script) with
// the model, NEWS2 and qSOFA side by side on patients the model never saw.
import type { ModelArtifact } from '@ehr/model';
import type { ClinicalEvaluation, Discrimination, OperatingStats, SubsetDiscrimination } from './clinical-evaluation.js';
import type { Interval } from './evaluate.js';
import { PLOT_STYLE, reportHead, TEXT_STYLE } from './report-page.js';
import { floorLine } from './clinical-summary.js';
import { barChart, escapeHtml, linePlot } from './svg.js';

export interface ClinicalReportInput {
  title: string;
  artifact: ModelArtifact;
  importance: { feature: string; importance: number }[];
  evaluatedOn: string;
  evaluation: ClinicalEvaluation;
  splits: { name: string; rows: number; patients: number; positives: number; eventPatients?: number }[];
  timings: { label: string; seconds: number }[];
  notes: string[];
  reproduce: string | null;
}

const f3 = (x: number | null | undefined) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(3) : '–');
const ci = (i: Interval | null | undefined) => (i ? ` <span class="ci">[${f3(i.low)}, ${f3(i.high)}]</span>` : '');
const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : '–');
const e = escapeHtml;

const STYLE = `body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; max-width: 1150px; margin: 24px auto; padding: 0 16px; }
${TEXT_STYLE}
table { border-collapse: collapse; margin: 8px 0; } th, td { padding: 4px 8px; border: 1px solid #ddd; text-align: left; vertical-align: top; }
td { font-variant-numeric: tabular-nums; } tr.budget td { background: #f3f3f3; font-weight: 600; }
${PLOT_STYLE}
code { background: #f3f3f3; padding: 1px 4px; }`;

function discRow(name: string, d: Discrimination): string {
  return `<tr><th>${e(name)}</th><td>${f3(d.auroc)}${ci(d.ci?.auroc)}</td><td>${f3(d.auprc)}${ci(d.ci?.auprc)}</td></tr>`;
}

function subsetTable(id: string, caption: string, s: SubsetDiscrimination): string {
  const d = s.aurocDifference;
  return `<table id="${id}"><thead><tr><th>${e(caption)} (${s.rows} rows of ${s.patients} stays, ${s.eventPatients} with an event, ${s.positives} positive; ${s.rowsLeftOut} rows left out)</th><th>AUROC</th><th>AUPRC</th></tr></thead><tbody>
${discRow('Random Forest', s.model)}
${discRow('NEWS2', s.news2)}
${discRow('qSOFA', s.qsofa)}
<tr><th>model − NEWS2 (paired)</th><td>${f3(d.value)}${ci(d.ci)}</td><td></td></tr>
</tbody></table>`;
}

const SERVED_RANK = ['low', 'medium', 'high'];

function opRow(o: OperatingStats): string {
  const threshold = o.label.startsWith('model') ? o.threshold.toPrecision(3) : o.label.startsWith('served') ? `band ${o.threshold >= 2 ? '=' : '≥'} ${SERVED_RANK[o.threshold] ?? o.threshold}` : String(o.threshold);
  return `<tr><th>${e(o.label)}</th><td>${e(threshold)}</td><td>${o.utility === null ? '–' : f3(o.utility)}${ci(o.utilityCi)}</td><td>${pct(o.sensitivity)}</td><td>${pct(o.ppv)}</td><td>${pct(o.alertRate)}</td><td>${o.alertHoursPerPatientDay.toFixed(2)}</td><td>${o.newAlertsPerPatientDay.toFixed(2)}</td><td>${o.staysAlertedBeforeOnset} / ${o.eventStays}</td><td>${o.medianLeadHours === null ? '–' : o.medianLeadHours.toFixed(1)}</td></tr>`;
}

const OP_HEAD = '<thead><tr><th></th><th>threshold</th><th>utility (normalised)</th><th>sensitivity (hours)</th><th>PPV (hours)</th><th>alert rate (hours)</th><th>alert hours / patient-day</th><th>new alerts / patient-day</th><th>event stays alerted before onset</th><th>median lead (h)</th></tr></thead>';

function kv(rows: [string, string][]): string {
  return `<table class="kv">${rows.map(([k, v]) => `<tr><th>${e(k)}</th><td>${e(v)}</td></tr>`).join('')}</table>`;
}

export function renderClinicalReport(r: ClinicalReportInput): string {
  const v = r.evaluation;
  const a = r.artifact;
  const calMax = Math.max(...v.calibration.reliability.map((b) => Math.max(b.meanPredicted, b.fractionPositive)), 0.01);
  const range = calMax < 0.5 ? Math.min(1, Math.ceil(calMax * 1.1 * 20) / 20) : 1;
  const calibration = linePlot({
    title: 'Calibration (deciles of predicted probability)',
    xLabel: 'mean predicted probability',
    yLabel: 'observed rate',
    diagonal: true,
    range,
    series: [{ name: `model (slope ${f3(v.calibration.slope)}, ECE ${f3(v.calibration.ece)})`, color: '#c0392b', markers: true, points: v.calibration.reliability.map((b) => [b.meanPredicted, b.fractionPositive]) }],
  });
  const importance = barChart(
    `Feature importance (top ${Math.min(25, r.importance.length)} of ${r.importance.length})`,
    r.importance.slice(0, 25).map((x) => ({ label: x.feature, value: x.importance })),
  );
  const d = v.aurocDifference;
  const verdict =
    d.ci && d.ci.low > 0
      ? `The model ranks rows better than NEWS2: AUROC per row ${f3(v.hourly.model.auroc)} vs ${f3(v.hourly.news2.auroc)} (difference ${f3(d.value)}, 95 % interval ${f3(d.ci.low)} to ${f3(d.ci.high)}).`
      : d.ci && d.ci.high < 0
        ? `The model does NOT beat NEWS2 here: AUROC per row ${f3(v.hourly.model.auroc)} vs ${f3(v.hourly.news2.auroc)} (difference ${f3(d.value)}, 95 % interval ${f3(d.ci.low)} to ${f3(d.ci.high)}).`
        : `No clear winner: AUROC per row ${f3(v.hourly.model.auroc)} vs NEWS2 ${f3(v.hourly.news2.auroc)} (difference ${f3(d.value)}${d.ci ? `, interval ${f3(d.ci.low)} to ${f3(d.ci.high)}` : ''}).`;
  const groups = v.subgroups
    .map((g) => `<tr><th>${e(g.group)}</th><td>${e(g.value)}</td><td>${g.patients}</td><td>${g.rows}</td><td>${g.positives}</td><td>${f3(g.model.auroc)}${ci(g.model.ci?.auroc)}</td><td>${f3(g.news2.auroc)}${ci(g.news2.ci?.auroc)}</td><td>${f3(g.model.auprc)}${ci(g.model.ci?.auprc)}</td><td>${f3(g.news2.auprc)}${ci(g.news2.ci?.auprc)}</td></tr>`)
    .join('\n');
  const subsets =
    v.preOnset || v.completeNews2
      ? `<h2>Before onset, and NEWS2 with its observations complete</h2>
${v.preOnset ? `<p class="small">Prediction, not detection: the label is positive from 6 h before onset to the end of the stay, so the figures above mix hours before onset with hours at and after it. Here only ${e(v.preOnset.rule)}.</p>\n${subsetTable('pre-onset', 'per row before onset', v.preOnset)}` : ''}
${v.completeNews2 ? `<p class="small">A missing NEWS2 parameter adds 0 points, which handicaps NEWS2 where observations are sparse. Here only the ${e(v.completeNews2.rule.replace(/^NEWS2 complete but consciousness: /, ''))} — ${pct(v.completeNews2.rows / Math.max(1, v.rows))} of the rows; consciousness is not required, since the data may have none.</p>\n${subsetTable('complete-news2', 'per row, NEWS2 complete but consciousness', v.completeNews2)}` : ''}
<p class="small">Same patient resamples as every interval above; the difference is paired (model and NEWS2 on each resample).</p>
`
      : '';
  const ops = v.operatingPoints.map((o) => `<tr class="budget"><td colspan="10">${e(o.budget)}</td></tr>${opRow(o.news2)}${opRow(o.model)}${o.served ? opRow(o.served) : ''}`).join('\n');
  const floor = v.servedBand
    ? `<p id="served-band">The served band is what the ward sees: the scoring service serves the model's band never calmer than NEWS2's response tier (≥ 7 high; ≥ 5, or 3 in any one parameter, medium). The "model" rows are the model alone, before that floor. ${e(floorLine(v.servedBand, v.rows))}.</p>`
    : v.operatingPoints.length
      ? '<p class="small">The "model" rows are the model alone, before the NEWS2 floor the scoring service applies; no served-band figures here (no NEWS2 parameters given).</p>'
      : '';
  return `${reportHead(r.title, STYLE)}
<body>
<h1>${e(r.title)}</h1>
<p class="small">Model <code>${e(a.name)}</code> version <code>${e(a.version)}</code> · feature set ${e(a.featureSchemaVersion)} (${a.featureNames.length} features) · ${a.hyperparameters.nTrees} trees · created ${e(a.createdAt)}</p>
<p>Evaluated on: ${e(r.evaluatedOn)}. Label: ${e(a.label?.description ?? 'not recorded')}.</p>
<p class="verdict" id="verdict">${e(verdict)}</p>

<h2>Discrimination: model, NEWS2 and qSOFA on the same rows</h2>
<table id="discrimination"><thead><tr><th>per scored row (${v.rows} rows — hours of PhysioNet stays, feature vectors of a MEDS replay — ${v.positives} positive)</th><th>AUROC</th><th>AUPRC</th></tr></thead><tbody>
${discRow('Random Forest', v.hourly.model)}
${discRow('NEWS2', v.hourly.news2)}
${discRow('qSOFA', v.hourly.qsofa)}
</tbody></table>
<table id="per-stay"><thead><tr><th>per stay (${v.patients} stays, ${v.eventPatients} with an event; score = maximum over the stay)</th><th>AUROC</th><th>AUPRC</th></tr></thead><tbody>
${discRow('Random Forest', v.stay.model)}
${discRow('NEWS2', v.stay.news2)}
${discRow('qSOFA', v.stay.qsofa)}
</tbody></table>
<p class="small">Brackets: 95 % intervals from ${v.bootstrap.resamples} resamples of whole patients (seed ${v.bootstrap.seed}). Hourly prevalence ${pct(v.positives / Math.max(1, v.rows))}.</p>
${subsets}
<h2>Alarms: the Challenge utility and what a ward would see</h2>
<table id="alarms">${OP_HEAD}<tbody>
${v.alarms.map(opRow).join('\n')}
</tbody></table>
<p class="small">Utility: PhysioNet/CinC 2019 (early −12 h, optimal −6 h, late +3 h, false alarm −0.05, missed −2), normalised so that never alarming is 0 and the best possible is 1; the Challenge's winners reached about 0.36 on their hidden test set. Lead time: hours from the first alert within ${v.leadWindowHours} h before onset (first positive label + 6 h) to onset.</p>

<h2>Operating points at NEWS2's alert rates</h2>
<p class="small">The model's medium and high thresholds flag, on the validation patients, as many hours as NEWS2 ≥ 5 and NEWS2 ≥ 7 do (${e(a.bandBudget ? `${a.bandBudget.medium}; ${a.bandBudget.high}` : 'budgets not recorded')}). Here, on the test patients, side by side:</p>
<table id="operating-points">${OP_HEAD}<tbody>
${ops}
</tbody></table>
${floor}

<h2>Calibration</h2>
<p>Calibration slope ${f3(v.calibration.slope)}, intercept ${f3(v.calibration.intercept)} (logistic recalibration; 1 and 0 are perfect), ECE ${f3(v.calibration.ece)} (10 equal-width bins), Brier ${v.calibration.brier.toFixed(4)}.</p>
<figure id="calibration">${calibration}</figure>

<h2>Subgroups</h2>
<table id="subgroups"><thead><tr><th>group</th><th>value</th><th>patients</th><th>hours</th><th>positive hours</th><th>model AUROC</th><th>NEWS2 AUROC</th><th>model AUPRC</th><th>NEWS2 AUPRC</th></tr></thead><tbody>
${groups}
</tbody></table>

<h2>Feature importance</h2>
<figure id="importance">${importance}</figure>

<h2>Data and model</h2>
${kv([
  ['data', a.provenance?.description ?? 'not recorded'],
  ['file', `${a.provenance?.file ?? '–'} (sha256 ${a.provenance?.sha256 ?? '–'})`],
  ['label', a.label ? `${a.label.name}: ${a.label.description}` : '–'],
  ['alarm threshold', a.alarm ? `${a.alarm.threshold.toPrecision(4)} (${a.alarm.rule}; validation utility ${f3(a.alarm.validationUtility)})` : '–'],
  ['band thresholds', a.bands ? `medium ≥ ${a.bands.medium.toPrecision(3)}, high ≥ ${a.bands.high.toPrecision(3)}` : '–'],
  ['hyperparameters', JSON.stringify(a.hyperparameters)],
])}
<table><thead><tr><th>split (by patient)</th><th>hours</th><th>patients</th><th>positive hours</th><th>patients with an event</th></tr></thead><tbody>
${r.splits.map((s) => `<tr><th>${e(s.name)}</th><td>${s.rows}</td><td>${s.patients}</td><td>${s.positives}</td><td>${s.eventPatients ?? '–'}</td></tr>`).join('\n')}
</tbody></table>
${r.timings.length ? `<h2>Timings</h2>${kv(r.timings.map((t) => [t.label, `${t.seconds.toFixed(1)} s`]))}` : ''}
${r.reproduce ? `<h2>Reproduce</h2><p><code>${e(r.reproduce)}</code></p>` : ''}
${r.notes.length ? `<h2>Notes</h2><ul>${r.notes.map((n) => `<li>${e(n)}</li>`).join('')}</ul>` : ''}
</body>
</html>
`;
}
