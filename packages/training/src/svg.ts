// Inline SVG charts for the report: no script, no CDN, readable offline and in any browser.
// Hand-written because the report must be one self-contained file; a charting library would
// bring a runtime and a build step for four plain charts.

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
  /** Draw markers (for sparse curves such as calibration bins). */
  markers?: boolean;
  dashed?: boolean;
}

export interface LinePlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Draw y = x. */
  diagonal?: boolean;
  /** Horizontal reference line (e.g. prevalence) with its label. */
  hline?: { y: number; label: string };
  width?: number;
  height?: number;
  /** Upper end of both axes (default 1): zooms in on small probabilities. */
  range?: number;
}

const fmt = (v: number) => (Math.round(v * 10) / 10).toString();

/** A plot on [0, range] × [0, range] (default [0, 1]²). */
export function linePlot(o: LinePlotOptions): string {
  const width = o.width ?? 420;
  const legendH = 16 * o.series.length + 6;
  const height = (o.height ?? 360) + legendH;
  const m = { left: 52, right: 16, top: 30, bottom: 46 + legendH };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const range = o.range ?? 1;
  const sx = (x: number) => m.left + Math.min(1, Math.max(0, x / range)) * w;
  const sy = (y: number) => m.top + (1 - Math.min(1, Math.max(0, y / range))) * h;
  const tick = (v: number) => v.toFixed(range >= 0.5 ? 1 : range >= 0.05 ? 2 : 3);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" role="img" class="plot" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" aria-label="${escapeHtml(o.title)}">`);
  parts.push(`<title>${escapeHtml(o.title)}</title>`);
  parts.push(`<text x="${width / 2}" y="18" text-anchor="middle" class="plot-title">${escapeHtml(o.title)}</text>`);
  for (let k = 0; k <= 5; k++) {
    const v = (k / 5) * range;
    parts.push(`<line x1="${fmt(sx(v))}" y1="${m.top}" x2="${fmt(sx(v))}" y2="${m.top + h}" class="grid"/>`);
    parts.push(`<line x1="${m.left}" y1="${fmt(sy(v))}" x2="${m.left + w}" y2="${fmt(sy(v))}" class="grid"/>`);
    parts.push(`<text x="${fmt(sx(v))}" y="${m.top + h + 16}" text-anchor="middle" class="tick">${tick(v)}</text>`);
    parts.push(`<text x="${m.left - 6}" y="${fmt(sy(v) + 4)}" text-anchor="end" class="tick">${tick(v)}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${w}" height="${h}" class="frame"/>`);
  parts.push(`<text x="${m.left + w / 2}" y="${m.top + h + 34}" text-anchor="middle" class="axis">${escapeHtml(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${m.top + h / 2}) rotate(-90)" text-anchor="middle" class="axis">${escapeHtml(o.yLabel)}</text>`);
  if (o.diagonal) parts.push(`<line x1="${sx(0)}" y1="${sy(0)}" x2="${sx(range)}" y2="${sy(range)}" class="reference"/>`);
  if (o.hline) {
    parts.push(`<line x1="${sx(0)}" y1="${fmt(sy(o.hline.y))}" x2="${sx(range)}" y2="${fmt(sy(o.hline.y))}" class="reference"/>`);
    parts.push(`<text x="${sx(range) - 4}" y="${fmt(sy(o.hline.y) - 4)}" text-anchor="end" class="tick">${escapeHtml(o.hline.label)}</text>`);
  }
  o.series.forEach((s, k) => {
    if (s.points.length > 0) {
      const d = s.points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${fmt(sx(x))} ${fmt(sy(y))}`).join(' ');
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} data-series="${escapeHtml(s.name)}"/>`);
      if (s.markers) for (const [x, y] of s.points) parts.push(`<circle cx="${fmt(sx(x))}" cy="${fmt(sy(y))}" r="3.5" fill="${s.color}"/>`);
    }
    // Legend under the plot, where it hides no curve.
    const ly = m.top + h + 56 + k * 16;
    parts.push(`<line x1="${m.left}" y1="${ly - 4}" x2="${m.left + 20}" y2="${ly - 4}" stroke="${s.color}" stroke-width="3"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text x="${m.left + 26}" y="${ly}" class="legend">${escapeHtml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Horizontal bars, largest first. */
export function barChart(title: string, bars: { label: string; value: number }[], color = '#3b6ea5'): string {
  const rowH = 18;
  const labelW = 210;
  const barW = 300;
  const width = labelW + barW + 70;
  const height = 30 + bars.length * rowH + 10;
  const max = Math.max(...bars.map((b) => b.value), 1e-12);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" role="img" class="plot" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" aria-label="${escapeHtml(title)}">`);
  parts.push(`<title>${escapeHtml(title)}</title>`);
  parts.push(`<text x="${width / 2}" y="18" text-anchor="middle" class="plot-title">${escapeHtml(title)}</text>`);
  bars.forEach((b, i) => {
    const y = 30 + i * rowH;
    const len = (b.value / max) * barW;
    parts.push(`<text x="${labelW - 6}" y="${y + 12}" text-anchor="end" class="tick">${escapeHtml(b.label)}</text>`);
    parts.push(`<rect x="${labelW}" y="${y + 2}" width="${fmt(len)}" height="${rowH - 5}" fill="${color}"/>`);
    parts.push(`<text x="${fmt(labelW + len + 4)}" y="${y + 12}" class="tick">${(b.value * 100).toFixed(1)} %</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
