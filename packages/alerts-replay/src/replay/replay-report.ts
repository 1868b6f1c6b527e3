// The replay as one self-contained HTML page: the table, what each part of the policy
// removed, the tuning on validation patients, and the curve of sensitivity against alerts
// per patient-day as an inline SVG (no script, no CDN). Training's chart helper plots on a
// square [0, r]² only; this curve has two different axes, so it draws its own.
import type { ReplayData } from './replay-data.js';
import type { ReplayCounts, ReplayResult } from './replay.js';
import type { TuningResult } from './tune.js';

/** What was left out, in words (empty when nothing was). */
export function excludedNote(data: Pick<ReplayData, 'excluded' | 'split'>): string {
  if (!data.excluded) return '';
  return data.split === 'test'
    ? `${data.excluded} stays the model was trained or tuned on, or that a choice behind it was made on, left out`
    : `${data.excluded} stays other than the model's validation patients left out: those it was trained on or that a choice behind it was made on, and its test patients`;
}

export interface CurveSeries {
  name: string;
  color: string;
  points: { threshold: number; counts: ReplayCounts }[];
  dashed?: boolean;
}

export interface ReplayReport {
  data: Pick<ReplayData, 'description' | 'label' | 'model' | 'split' | 'excluded' | 'realDates'>;
  results: ReplayResult[];
  curves: CurveSeries[];
  tuning: (TuningResult & { description: string }) | null;
  command: string;
}

const esc = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)} %`);
const num = (x: number | null, d = 2) => (x === null ? '–' : x.toFixed(d));

function curveSvg(series: readonly CurveSeries[], marks: readonly { name: string; counts: ReplayCounts }[]): string {
  const width = 640;
  const height = 420;
  const m = { left: 56, right: 170, top: 30, bottom: 48 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const xs = [...series.flatMap((s) => s.points.map((p) => p.counts.alertsPerPatientDay)), ...marks.map((k) => k.counts.alertsPerPatientDay)];
  const xMax = Math.max(0.5, Math.ceil(Math.max(...xs, 0) * 4) / 4);
  const sx = (x: number) => m.left + (Math.min(x, xMax) / xMax) * w;
  const sy = (y: number) => m.top + (1 - y) * h;
  const f = (v: number) => v.toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" aria-label="sensitivity per stay against alerts per patient-day">`,
    `<text x="${m.left + w / 2}" y="18" text-anchor="middle" class="plot-title">Sensitivity per stay against alerts per patient-day</text>`,
  ];
  for (let k = 0; k <= 5; k++) {
    const xv = (k / 5) * xMax;
    const yv = k / 5;
    out.push(`<line x1="${f(sx(xv))}" y1="${m.top}" x2="${f(sx(xv))}" y2="${m.top + h}" class="grid"/>`, `<text x="${f(sx(xv))}" y="${m.top + h + 16}" text-anchor="middle" class="tick">${xv.toFixed(2)}</text>`);
    out.push(`<line x1="${m.left}" y1="${f(sy(yv))}" x2="${m.left + w}" y2="${f(sy(yv))}" class="grid"/>`, `<text x="${m.left - 6}" y="${f(sy(yv) + 4)}" text-anchor="end" class="tick">${yv.toFixed(1)}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${w}" height="${h}" class="frame"/>`);
  out.push(`<text x="${m.left + w / 2}" y="${height - 8}" text-anchor="middle" class="axis">alerts per patient-day</text>`);
  out.push(`<text transform="translate(14 ${m.top + h / 2}) rotate(-90)" text-anchor="middle" class="axis">stays with the outcome alerted in time</text>`);
  series.forEach((s, k) => {
    const pts = [...s.points].sort((a, b) => a.counts.alertsPerPatientDay - b.counts.alertsPerPatientDay);
    const d = pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${f(sx(p.counts.alertsPerPatientDay))} ${f(sy(p.counts.sensitivity ?? 0))}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} data-series="${esc(s.name)}"/>`);
    for (const p of pts) out.push(`<circle cx="${f(sx(p.counts.alertsPerPatientDay))}" cy="${f(sy(p.counts.sensitivity ?? 0))}" r="2.5" fill="${s.color}"><title>${esc(`${s.name}: threshold ${p.threshold}`)}</title></circle>`);
    const ly = m.top + 14 + k * 18;
    out.push(`<line x1="${m.left + w + 12}" y1="${ly - 4}" x2="${m.left + w + 32}" y2="${ly - 4}" stroke="${s.color}" stroke-width="3"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`, `<text x="${m.left + w + 36}" y="${ly}" class="legend">${esc(s.name)}</text>`);
  });
  marks.forEach((mk, k) => {
    const x = sx(mk.counts.alertsPerPatientDay);
    const y = sy(mk.counts.sensitivity ?? 0);
    out.push(`<rect x="${f(x - 5)}" y="${f(y - 5)}" width="10" height="10" fill="none" stroke="#111" stroke-width="2"/>`, `<text x="${f(x + 8)}" y="${f(y - 8 - (k % 2) * 10)}" class="legend">${esc(mk.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('');
}

function resultRow(r: ReplayResult): string {
  const removed = r.removed;
  return `<tr><th>${esc(r.policy.name)} <small>v${esc(r.policy.version)}</small></th><td>${num(r.alertsPerPatientDay, 3)}</td><td>${pct(r.sensitivity)} <small>(${r.staysAlerted} / ${r.eventStays})</small></td><td>${pct(r.ppv)} <small>(${r.inTime} / ${r.alerts})</small></td><td>${num(r.medianLeadHours, 1)}</td><td>${r.alerts}</td><td>${removed.thresholdOnlyAlerts}</td><td>${removed.persistence}</td><td>${removed.hysteresis}</td><td>${removed.reAlert}</td><td>${removed.budget ?? r.budget}</td><td>${num(r.overduePerPatientDay, 3)}</td></tr>`;
}

export function renderReplayReport(r: ReplayReport): string {
  const marks = r.results.map((x) => ({ name: x.policy.name, counts: x }));
  const tuning = r.tuning
    ? `<h2>How the policy was chosen (validation patients only)</h2>
<p>${esc(r.tuning.description)}</p>
<p>The choice: the most stays with the outcome alerted in time, at no more alerts per patient-day and no lower PPV than NEWS2 ≥ 7 on the same validation patients; sensitivities within one percentage point of the best are a tie (about two stays in 200), and the tie goes to the fewest alerts.</p>
<p>Bound: NEWS2 ≥ 7 on the same validation patients raises ${num(r.tuning.bound.alertsPerPatientDay, 3)} alerts per patient-day at PPV ${pct(r.tuning.bound.ppv)} (sensitivity ${pct(r.tuning.bound.sensitivity)}).
Chosen: enter ${r.tuning.best.enter}, exit ${r.tuning.policy.deterioration.exit}, persistence ${r.tuning.best.persistence}, re-alert ${r.tuning.best.riseRatio === null ? 'never during an episode' : `on a rise of ${r.tuning.policy.deterioration.reAlert.rise} within ${r.tuning.policy.deterioration.reAlert.withinHours} h`}.</p>
<table><thead><tr><th>enter</th><th>exit / enter</th><th>persistence</th><th>re-alert rise / enter</th><th>within (h)</th><th>alerts / patient-day</th><th>sensitivity per stay</th><th>PPV</th><th>median lead (h)</th></tr></thead><tbody>
${[...r.tuning.rows]
  .filter((x) => x.counts.alertsPerPatientDay <= r.tuning!.bound.alertsPerPatientDay)
  .sort((a, b) => (b.counts.sensitivity ?? 0) - (a.counts.sensitivity ?? 0))
  .slice(0, 15)
  .map((x) => `<tr${x === r.tuning!.best ? ' class="chosen"' : ''}><td>${x.enter}</td><td>${x.exitRatio}</td><td>${x.persistence}</td><td>${x.riseRatio ?? 'never'}</td><td>${x.riseRatio === null ? '–' : x.withinHours}</td><td>${num(x.counts.alertsPerPatientDay, 3)}</td><td>${pct(x.counts.sensitivity)}</td><td>${pct(x.counts.ppv)}</td><td>${num(x.counts.medianLeadHours, 1)}</td></tr>`)
  .join('\n')}
</tbody></table><p><small>The 15 candidates with the most stays alerted within the bound's alert rate, of ${r.tuning.rows.length} tried.</small></p>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Alert policy replay</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#1b1f24;padding:0 1rem}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ccd3db;padding:.3rem .55rem;text-align:right}thead th{background:#eef2f6}tbody th{text-align:left}
tr.chosen{background:#fff5cc}small{color:#5b6570}
.grid{stroke:#e5e9ee}.frame{fill:none;stroke:#8a949e}.tick,.legend{font-size:11px;fill:#333}.axis{font-size:12px;fill:#333}.plot-title{font-size:13px;font-weight:600}
</style></head><body>
<h1>Alert policy replay</h1>
<p>Model <b>${esc(r.data.model.name)}@${esc(r.data.model.version)}</b> on ${esc(r.data.description)}${r.data.excluded ? ` (${esc(excludedNote(r.data))})` : ''}. Outcome: ${esc(r.data.label)}.</p>
<p>Each policy runs through the alerting service's own state machine, hour by hour (the clock ticks before each hour's score). An alert is <i>in time</i> when it is raised up to 48 h before onset; sensitivity is per stay with the outcome (alerted in time at least once); PPV is alerts in time over all alerts; lead time is from a stay's first in-time alert to onset (median over alerted stays). Removed: alerts the plain threshold (every rise through enter) would have raised that persistence, hysteresis, the re-alert rule and the budget took away, in that order (negative: the part added alerts).${r.data.realDates ? '' : ' The data has no dates (every stay starts at the same instant), so a unit\'s daily budget is not replayed.'} The last column counts overdue-observation alerts (the same for every policy: they follow NEWS2 and the charting, not the model).</p>
<table><thead><tr><th>policy</th><th>alerts / patient-day</th><th>sensitivity per stay</th><th>PPV</th><th>median lead (h)</th><th>alerts</th><th>threshold only</th><th>− persistence</th><th>− hysteresis</th><th>− re-alert rule</th><th>− budget</th><th>overdue alerts / patient-day</th></tr></thead>
<tbody>${r.results.map(resultRow).join('\n')}</tbody></table>
${curveSvg(r.curves, marks)}
${tuning}
<h2>Reproduce</h2><pre>${esc(r.command)}</pre>
</body></html>
`;
}
