// Two small SVG line charts, no dependencies and nothing fetched: the latency percentile
// curve (log scale of 1/(1 − p), as HdrHistogram plots it) and rates over time.
export interface Series {
  name: string;
  points: [number, number][];
  color: string;
}

interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  xTicks: { value: number; label: string }[];
  width?: number;
  height?: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function chart({ title, xLabel, yLabel, series, xTicks, width = 720, height = 380 }: ChartOptions): string {
  const m = { l: 64, r: 40, t: 36, b: 84 };
  const w = width - m.l - m.r;
  const h = height - m.t - m.b;
  const xs = series.flatMap((s) => s.points.map(([x]) => x));
  const ys = series.flatMap((s) => s.points.map(([, y]) => y)).filter(Number.isFinite);
  const x0 = Math.min(...xs, ...xTicks.map((t) => t.value));
  const x1 = Math.max(...xs, ...xTicks.map((t) => t.value));
  const y1 = niceMax(Math.max(...ys, 0));
  const X = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * w;
  const Y = (y: number) => m.t + h - (y / y1) * h;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const v = (y1 * i) / 5;
    out.push(`<line x1="${m.l}" x2="${m.l + w}" y1="${Y(v)}" y2="${Y(v)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.l - 6}" y="${Y(v) + 4}" text-anchor="end">${Number(v.toPrecision(3))}</text>`);
  }
  for (const t of xTicks) {
    out.push(`<line x1="${X(t.value)}" x2="${X(t.value)}" y1="${m.t}" y2="${m.t + h}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${X(t.value)}" y="${m.t + h + 16}" text-anchor="middle">${esc(t.label)}</text>`);
  }
  out.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${m.t + h}" stroke="black"/><line x1="${m.l}" x2="${m.l + w}" y1="${m.t + h}" y2="${m.t + h}" stroke="black"/>`);
  out.push(`<text x="${m.l + w / 2}" y="${m.t + h + 34}" text-anchor="middle">${esc(xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${m.t + h / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    const pts = s.points.filter(([, y]) => Number.isFinite(y));
    if (pts.length === 1) out.push(`<circle cx="${X(pts[0]![0]).toFixed(1)}" cy="${Y(pts[0]![1]).toFixed(1)}" r="3" fill="${s.color}"/>`);
    if (pts.length > 1) out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ')}"/>`);
    // Two legend entries per row.
    const lx = m.l + 8 + (i % 2) * 300;
    const ly = height - 26 + Math.floor(i / 2) * 16;
    out.push(`<rect x="${lx}" y="${ly - 5}" width="12" height="4" fill="${s.color}"/><text x="${lx + 16}" y="${ly}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** x = log10(1 / (1 − p/100)): 0 at p0, 1 at p90, 2 at p99, 3 at p99.9, 4 at p99.99. */
const percentileX = (p: number) => Math.log10(1 / (1 - Math.min(p, 99.99) / 100));

export function latencyChart(title: string, series: { name: string; curve: [number, number][]; color: string }[]): string {
  return chart({
    title,
    xLabel: 'percentile',
    yLabel: 'milliseconds',
    series: series.map((s) => ({ name: s.name, color: s.color, points: s.curve.map(([p, v]) => [percentileX(p), v]) })),
    xTicks: [0, 50, 90, 99, 99.9, 99.99].map((p) => ({ value: percentileX(p), label: `p${p}` })),
  });
}

export function rateChart(title: string, series: { name: string; perSecond: number[]; color: string }[]): string {
  const seconds = Math.max(1, ...series.map((s) => s.perSecond.length));
  const step = niceMax(seconds / 8);
  const ticks: { value: number; label: string }[] = [];
  for (let t = 0; t <= seconds; t += step) ticks.push({ value: t, label: `${t} s` });
  return chart({
    title,
    xLabel: 'seconds since the phase started',
    yLabel: 'events per second',
    series: series.map((s) => ({ name: s.name, color: s.color, points: s.perSecond.map((v, i) => [i + 0.5, v]) })),
    xTicks: ticks,
  });
}
