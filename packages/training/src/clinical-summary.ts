// A few terminal lines of a clinical evaluation (the CLIs print them; the report has the rest).
import type { ClinicalEvaluation, Discrimination, OperatingStats, ServedFloor, SubsetDiscrimination } from './clinical-evaluation.js';

const f3 = (x: number | null | undefined) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(3) : '–');
const ci = (d: Discrimination, k: 'auroc' | 'auprc') => (d.ci ? ` [${f3(d.ci[k].low)}, ${f3(d.ci[k].high)}]` : '');
const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : '–');

function op(o: OperatingStats): string {
  return `${o.label}: utility ${f3(o.utility)}${o.utilityCi ? ` [${f3(o.utilityCi.low)}, ${f3(o.utilityCi.high)}]` : ''}, sensitivity ${pct(o.sensitivity)}, PPV ${pct(o.ppv)}, alert rate ${pct(o.alertRate)}, ${o.newAlertsPerPatientDay.toFixed(2)} new alerts/patient-day, median lead ${o.medianLeadHours === null ? '–' : `${o.medianLeadHours.toFixed(1)} h`}`;
}

/** How often NEWS2's floor raised the model's band, in one line. */
export function floorLine(f: ServedFloor, rows: number): string {
  return `NEWS2 floor raised ${f.hoursRaised} of ${rows} scored rows (${pct(rows > 0 ? f.hoursRaised / rows : NaN)}) above the model's band: ${f.lowToMedium} low → medium, ${f.lowToHigh} low → high, ${f.mediumToHigh} medium → high; ${f.bySingleParameterThree} by a single parameter scoring 3 alone`;
}

/** A subset's discrimination in three lines: what it holds, the three scores, the paired difference. */
function subsetLines(title: string, short: string, s: SubsetDiscrimination, rows: number): string[] {
  const d = (name: string, x: Discrimination) => `${name} AUROC ${f3(x.auroc)}${ci(x, 'auroc')} AUPRC ${f3(x.auprc)}${ci(x, 'auprc')}`;
  return [
    `  ${title}: ${s.rows} rows (${pct(rows > 0 ? s.rows / rows : NaN)}) of ${s.patients} stays (${s.eventPatients} with an event), ${s.positives} positive`,
    `    ${d('model', s.model)} | ${d('NEWS2', s.news2)} | ${d('qSOFA', s.qsofa)}`,
    `    model − NEWS2 AUROC ${short} ${f3(s.aurocDifference.value)}${s.aurocDifference.ci ? ` [${f3(s.aurocDifference.ci.low)}, ${f3(s.aurocDifference.ci.high)}]` : ''}`,
  ];
}

export function formatClinicalSummary(e: ClinicalEvaluation): string {
  const line = (name: string, h: Discrimination, s: Discrimination) =>
    `  ${name.padEnd(6)} per row AUROC ${f3(h.auroc)}${ci(h, 'auroc')} AUPRC ${f3(h.auprc)}${ci(h, 'auprc')} | per stay AUROC ${f3(s.auroc)}${ci(s, 'auroc')} AUPRC ${f3(s.auprc)}${ci(s, 'auprc')}`;
  return [
    `  ${e.rows} scored rows of ${e.patients} stays (${e.eventPatients} with an event), prevalence per row ${pct(e.positives / Math.max(1, e.rows))}`,
    line('model', e.hourly.model, e.stay.model),
    line('NEWS2', e.hourly.news2, e.stay.news2),
    line('qSOFA', e.hourly.qsofa, e.stay.qsofa),
    `  model − NEWS2 per-row AUROC ${f3(e.aurocDifference.value)}${e.aurocDifference.ci ? ` [${f3(e.aurocDifference.ci.low)}, ${f3(e.aurocDifference.ci.high)}]` : ''}`,
    ...(e.preOnset ? subsetLines('per row before onset (septic stays\' rows from onset = first label + 6 h on left out)', 'before onset', e.preOnset, e.rows) : []),
    ...(e.completeNews2 ? subsetLines('per row with NEWS2 complete but consciousness (RR, SpO2, air/O2, SBP, pulse, temperature all measured)', 'with NEWS2 complete', e.completeNews2, e.rows) : []),
    ...e.alarms.map((o) => `  ${op(o)}`),
    ...e.operatingPoints.flatMap((o) => [`  at ${o.budget}:`, `    ${op(o.news2)}`, `    ${op(o.model)}`, ...(o.served ? [`    ${op(o.served)}`] : [])]),
    ...(e.servedBand ? [`  ${floorLine(e.servedBand, e.rows)}`] : []),
    `  calibration: slope ${f3(e.calibration.slope)}, intercept ${f3(e.calibration.intercept)}, ECE ${f3(e.calibration.ece)}, Brier ${e.calibration.brier.toFixed(4)}`,
  ].join('\n');
}
