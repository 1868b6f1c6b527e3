// @ts-check
// Sparklines and time-series charts as plain SVG paths (no chart library, no build step).

/** @typedef {(number | null | undefined)[]} Values */

const SVG = 'http://www.w3.org/2000/svg';

/**
 * The smallest vertical span drawn per series, so that a flat line does not look like noise.
 * @type {Readonly<Record<string, number>>}
 */
export const MIN_SPAN = { p: 0.1, n2: 3, hr: 15, rr: 6, spo2: 4, sbp: 20, temp: 1 };

/**
 * @param {Values} values
 * @param {number} minSpan
 * @returns {[number, number] | null}
 */
function extent(values, minSpan) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Infinity) return null;
  const span = hi - lo;
  if (span < minSpan) {
    const pad = (minSpan - span) / 2;
    lo -= pad;
    hi += pad;
  }
  return [lo, hi];
}

/**
 * `d` of a sparkline over values evenly spaced in a 100×24 box; null values break the line.
 * Returns '' when nothing can be drawn.
 * @param {Values} values
 * @param {number} [minSpan]
 * @returns {string}
 */
export function sparkPath(values, minSpan = 0) {
  const range = extent(values, minSpan);
  if (!range) return '';
  const [lo, hi] = range;
  const n = values.length;
  const dx = n > 1 ? 100 / (n - 1) : 0;
  let d = '';
  let pen = false;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      pen = false;
      continue;
    }
    const x = n > 1 ? i * dx : 50;
    const y = 22 - ((v - lo) / (hi - lo || 1)) * 20;
    d += `${pen ? 'L' : 'M'}${x.toFixed(1)} ${y.toFixed(1)}`;
    pen = true;
  }
  // A single point is drawn as a short tick so that it is visible.
  if (d && !d.includes('L')) d += 'h1';
  return d;
}

/**
 * A time-series chart (x = event time) as a <figure>: caption with the latest value,
 * the line, and its time and value ranges as text for anyone who cannot see the line.
 * @param {{ title: string, unit: string, times: number[], values: Values, minSpan?: number, format?: (v: number) => string }} chart
 * @returns {HTMLElement}
 */
export function timeChart({ title, unit, times, values, minSpan = 0, format = (v) => String(v) }) {
  const figure = document.createElement('figure');
  figure.className = 'chart';
  const caption = document.createElement('figcaption');
  const name = document.createElement('span');
  name.textContent = unit ? `${title} (${unit})` : title;
  const latest = document.createElement('b');
  const last = [...values].reverse().find((v) => v !== null && v !== undefined);
  latest.textContent = last === undefined ? '—' : format(last);
  caption.append(name, latest);

  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 600 140');
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  const range = extent(values, minSpan);
  const t0 = times[0] ?? 0;
  const t1 = times[times.length - 1] ?? 0;
  if (range && times.length > 0) {
    const [lo, hi] = range;
    /** @param {number} t */
    const xOf = (t) => (t1 > t0 ? ((t - t0) / (t1 - t0)) * 590 + 5 : 300);
    /** @param {number} v */
    const yOf = (v) => 132 - ((v - lo) / (hi - lo || 1)) * 124;
    for (const frac of [0, 0.5, 1]) {
      const g = document.createElementNS(SVG, 'line');
      g.setAttribute('class', 'grid');
      g.setAttribute('x1', '0');
      g.setAttribute('x2', '600');
      g.setAttribute('y1', String(132 - frac * 124));
      g.setAttribute('y2', String(132 - frac * 124));
      svg.append(g);
    }
    let d = '';
    let pen = false;
    for (let i = 0; i < times.length; i++) {
      const v = values[i];
      if (v === null || v === undefined) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${xOf(times[i] ?? t0).toFixed(1)} ${yOf(v).toFixed(1)}`;
      pen = true;
    }
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('class', 'line');
    path.setAttribute('d', d);
    svg.append(path);
    svg.setAttribute('aria-label', `${title}: ${values.filter((v) => v !== null).length} points from ${format(lo)} to ${format(hi)}`);
  } else {
    figure.classList.add('empty-chart');
    svg.setAttribute('aria-label', `${title}: no values`);
  }

  const axis = document.createElement('div');
  axis.className = 'axis';
  const from = document.createElement('span');
  const to = document.createElement('span');
  const scale = document.createElement('span');
  // Series longer than a day show the date too.
  const stamp = t1 - t0 > 20 * 3_600_000 ? (/** @type {number} */ t) => `${DAY.format(t)} ${clock(t)}` : clock;
  from.textContent = times.length ? stamp(t0) : '';
  to.textContent = times.length ? stamp(t1) : '';
  scale.textContent = range ? `${format(range[0])} – ${format(range[1])}` : 'no values';
  axis.append(from, scale, to);
  figure.append(caption, svg, axis);
  return figure;
}

// One formatter, reused: toLocaleTimeString builds a new one per call (slow for 1,000 rows).
const TIME = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
const DAY = new Intl.DateTimeFormat([], { day: 'numeric', month: 'short' });
/**
 * @param {number} t epoch milliseconds
 * @returns {string}
 */
export function clock(t) {
  return TIME.format(t);
}
