// The ward page: a snapshot, then coalesced updates over server-sent events (/events).
// Every patient is one row (data-band = low | medium | high) sorted by severity; a row
// is built once and then patched in place, and the DOM is touched once per frame.
import { clock, MIN_SPAN, sparkPath, timeChart } from './charts.js';

const BAND_RANK = { low: 0, medium: 1, high: 2 };
const BAND_LABEL = { low: '● Low', medium: '▲ Medium', high: '◆ High' };
/** Point layout, as the server sends it: [t, p, n2, hr, rr, spo2, sbp, temp]. */
const SERIES = ['p', 'n2', 'hr', 'rr', 'spo2', 'sbp', 'temp'];
const VITALS = [
  { key: 'hr', label: 'Heart rate', unit: '/min', digits: 0 },
  { key: 'rr', label: 'Respiratory rate', unit: '/min', digits: 0 },
  { key: 'spo2', label: 'SpO₂', unit: '%', digits: 0 },
  { key: 'sbp', label: 'Systolic BP', unit: 'mmHg', digits: 0 },
  { key: 'temp', label: 'Temperature', unit: '°C', digits: 1 },
];
const MAX_ALERTS_SHOWN = 6;

const $ = (id) => document.getElementById(id);
const els = {
  rows: $('rows'),
  table: $('table'),
  empty: $('empty'),
  conn: $('conn'),
  model: $('model'),
  services: $('services'),
  alerts: $('alerts'),
  alertList: $('alert-list'),
  unitFilter: $('unit-filter'),
  bandFilter: $('band-filter'),
  search: $('search'),
  wall: $('wall-toggle'),
  updated: $('updated'),
  pushInfo: $('push-info'),
  detail: $('detail'),
  detailTitle: $('detail-title'),
  detailClose: $('detail-close'),
  detailSummary: $('detail-summary'),
  detailCharts: $('detail-charts'),
  detailTop: $('detail-top'),
  detailRecent: $('detail-recent'),
  template: $('row-template'),
};

const state = {
  /** id → { data, hist, row, cells, dirty } */
  patients: new Map(),
  alerts: [],
  dismissed: new Set(),
  models: [],
  health: [],
  sparkPoints: 40,
  lastUpdate: 0,
  orderDirty: true,
  filterDirty: true,
  chromeDirty: true,
  /** [id, eventTime] of rows patched since the last frame (for tests and the bench). */
  rendered: [],
  detail: null, // { id, hist, loading }
  frame: 0,
};

// ---------- formatting ----------

const fmt = (v, digits = 0) => (v === null || v === undefined ? '—' : v.toFixed(digits));
const pct = (p) => (p === null || p === undefined ? '—' : `${Math.round(p * 100)}%`);
const prettyFeature = (name) => name.replace(/_/g, ' ');

function trend(values) {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length < 2) return '';
  const a = present[present.length - 2];
  const b = present[present.length - 1];
  if (b > a) return '↑';
  if (b < a) return '↓';
  return '';
}

function column(hist, key) {
  const i = SERIES.indexOf(key) + 1;
  return hist.map((pt) => pt[i] ?? null);
}

// ---------- rows ----------

function createRow(id) {
  const row = els.template.content.firstElementChild.cloneNode(true);
  row.dataset.id = id;
  const cells = row.children;
  const link = cells[0].querySelector('a');
  link.href = `#/patient/${encodeURIComponent(id)}`;
  link.textContent = id;
  const numeric = (cell) => ({ val: cell.querySelector('.val'), path: cell.querySelector('path'), cell });
  return {
    row,
    cells: {
      link,
      enc: cells[0].querySelector('.enc'),
      unit: cells[1],
      badge: cells[2].querySelector('.badge'),
      score: numeric(cells[3]),
      n2: numeric(cells[4]),
      vitals: VITALS.map((_, i) => numeric(cells[5 + i])),
      tops: cells[10].querySelector('ol'),
      time: cells[11].querySelector('time'),
    },
  };
}

function patchRow(p) {
  const { data, hist, row, cells } = p;
  row.dataset.band = data.band;
  if (data.alert) row.dataset.alert = 'up';
  else delete row.dataset.alert;
  cells.enc.textContent = data.enc ?? '';
  cells.unit.textContent = data.unit ?? 'unknown';
  cells.unit.classList.toggle('unknown', !data.unit);
  cells.badge.dataset.level = data.band;
  cells.badge.textContent = BAND_LABEL[data.band] ?? data.band;

  const scoreValues = column(hist, 'p');
  setNumeric(cells.score, data.p === null ? 'NEWS2' : `${pct(data.p)}${trend(scoreValues)}`, data.p === null, scoreValues, MIN_SPAN.p, trend(scoreValues));
  cells.score.cell.title = data.mode === 'news2_only' ? 'No model loaded: band from NEWS2' : `Probability of severe (${data.model?.name ?? 'model'} ${data.model?.version ?? ''})`;
  const n2Values = column(hist, 'n2');
  setNumeric(cells.n2, data.n2 === null ? '—' : `${data.n2}${trend(n2Values)}`, data.n2 === null, n2Values, MIN_SPAN.n2, trend(n2Values));
  cells.n2.cell.title = data.n2b ? `NEWS2 ${data.n2} (${data.n2b.replace('_', '–')})` : 'NEWS2';
  VITALS.forEach((v, i) => {
    const values = column(hist, v.key);
    const value = data.v?.[v.key] ?? null;
    setNumeric(cells.vitals[i], fmt(value, v.digits), value === null, values, MIN_SPAN[v.key], '');
    cells.vitals[i].cell.title = value === null ? `${v.label}: not measured` : `${v.label} ${fmt(value, v.digits)} ${v.unit}`;
  });

  // Rebuilt only when the features changed (most updates only move the numbers).
  const topsKey = data.top.slice(0, 3).map((f) => `${f.feature}\u0000${f.value}\u0000${f.contribution}`).join('\u0001');
  if (p.topsKey !== topsKey) {
    p.topsKey = topsKey;
    cells.tops.replaceChildren(
      ...data.top.slice(0, 3).map((f) => {
        const li = document.createElement('li');
        const name = document.createElement('span');
        name.textContent = `${prettyFeature(f.feature)} ${f.value === null ? '' : +f.value.toFixed(2)} `;
        const c = document.createElement('span');
        c.className = `contrib ${f.contribution >= 0 ? 'pos' : 'neg'}`;
        c.textContent = `${f.contribution >= 0 ? '+' : '−'}${Math.abs(f.contribution * 100).toFixed(1)}%`;
        li.append(name, c);
        return li;
      }),
    );
  }
  if (p.shownT !== data.t) {
    p.shownT = data.t;
    cells.time.dateTime = new Date(data.t).toISOString();
    cells.time.textContent = clock(data.t);
  }
  state.rendered.push([data.id, data.t]);
}

function setNumeric(target, text, missing, values, minSpan, arrow) {
  target.val.textContent = text;
  target.val.classList.toggle('missing', missing);
  target.val.classList.toggle('trend-up', arrow === '↑');
  target.val.classList.toggle('trend-down', arrow === '↓');
  target.path.setAttribute('d', sparkPath(values, minSpan));
}

function compare(a, b) {
  const x = a.data;
  const y = b.data;
  return (
    BAND_RANK[y.band] - BAND_RANK[x.band] ||
    (y.p ?? -1) - (x.p ?? -1) ||
    (y.n2 ?? -1) - (x.n2 ?? -1) ||
    (x.id < y.id ? -1 : x.id > y.id ? 1 : 0)
  );
}

// ---------- applying server messages ----------

function upsert(wire) {
  let p = state.patients.get(wire.id);
  const { add, hist, ...data } = wire;
  if (!p) {
    p = { data, hist: [], ...createRow(wire.id), dirty: true };
    state.patients.set(wire.id, p);
    state.filterDirty = true;
  } else {
    if (p.data.unit !== data.unit || p.data.band !== data.band) state.filterDirty = true;
    p.data = data;
  }
  if (hist) p.hist = hist;
  else if (add) {
    for (const pt of add) if (p.hist.length === 0 || pt[0] > p.hist[p.hist.length - 1][0]) p.hist.push(pt);
    if (p.hist.length > state.sparkPoints) p.hist.splice(0, p.hist.length - state.sparkPoints);
  }
  p.dirty = true;
  state.orderDirty = true;
  if (state.detail && state.detail.id === wire.id) {
    if (hist) void loadDetail(wire.id);
    else if (add) {
      const h = state.detail.hist;
      for (const pt of add) if (h.length === 0 || pt[0] > h[h.length - 1][0]) h.push(pt);
      if (h.length > 2000) h.splice(0, h.length - 2000);
    }
    state.detail.dirty = true;
  }
}

function remove(id) {
  const p = state.patients.get(id);
  if (!p) return;
  p.row.remove();
  state.patients.delete(id);
  state.filterDirty = true;
}

function onSnapshot(snap) {
  for (const p of state.patients.values()) p.row.remove();
  state.patients.clear();
  state.sparkPoints = snap.config?.sparkPoints ?? state.sparkPoints;
  els.pushInfo.textContent = snap.config ? `updates every ${snap.config.pushIntervalMs} ms` : '';
  for (const wire of snap.patients) upsert(wire);
  state.alerts = snap.alerts;
  state.models = snap.models;
  state.health = snap.health ?? [];
  state.lastUpdate = snap.generatedAt;
  state.chromeDirty = true;
  schedule();
}

function onUpdate(delta) {
  for (const id of delta.removed) remove(id);
  for (const wire of delta.upserts) upsert(wire);
  if (delta.alerts.length) state.alerts.push(...delta.alerts);
  if (delta.models) state.models = delta.models;
  if (delta.health) state.health = delta.health;
  state.lastUpdate = Date.now();
  state.chromeDirty = true;
  schedule();
}

// ---------- rendering, once per frame ----------

function schedule() {
  if (state.frame) return;
  state.frame = requestAnimationFrame(render);
}

function matchesFilter(p) {
  const unit = els.unitFilter.value;
  const band = els.bandFilter.value;
  const q = els.search.value.trim().toLowerCase();
  if (unit && (p.data.unit ?? '\u0000unknown') !== unit) return false;
  if (band && BAND_RANK[p.data.band] < BAND_RANK[band]) return false;
  if (q && !p.data.id.toLowerCase().includes(q)) return false;
  return true;
}

function render() {
  state.frame = 0;
  const started = performance.now();
  const phases = {};
  let mark = started;
  const lap = (name) => {
    const now = performance.now();
    phases[name] = now - mark;
    mark = now;
  };
  for (const p of state.patients.values()) {
    if (!p.dirty) continue;
    p.dirty = false;
    patchRow(p);
  }
  lap('patch');
  if (state.orderDirty) {
    state.orderDirty = false;
    reorder([...state.patients.values()].sort(compare));
  }
  lap('order');
  if (state.filterDirty) {
    state.filterDirty = false;
    applyFilter();
  }
  lap('filter');
  if (state.chromeDirty) {
    state.chromeDirty = false;
    renderChrome();
  }
  if (state.detail?.dirty) renderDetail();
  lap('chrome');
  const rendered = state.rendered;
  state.rendered = [];
  document.body.dataset.patients = String(state.patients.size);
  // For tests and the bench: which rows were patched, when, and how long the frame's work took.
  if (rendered.length) window.dispatchEvent(new CustomEvent('dashboard:render', { detail: { rendered, at: Date.now(), ms: performance.now() - started, phases } }));
}

/**
 * Puts the rows in the given order with the fewest DOM moves: rows on the longest run
 * already in order stay, the others move (a patient rising to the top is one move).
 */
function reorder(ordered) {
  const position = new Map();
  let i = 0;
  for (const row of els.rows.children) position.set(row, i++);
  const seq = ordered.map((p) => position.get(p.row) ?? -1);
  const keep = longestIncreasing(seq);
  let anchor = null;
  for (let k = ordered.length - 1; k >= 0; k--) {
    const row = ordered[k].row;
    if (!keep.has(k)) els.rows.insertBefore(row, anchor);
    anchor = row;
  }
}

/** Indices of a longest strictly increasing subsequence of seq (entries < 0 never kept). O(n log n). */
function longestIncreasing(seq) {
  const tails = []; // index into seq of the smallest tail of each length
  const prev = new Array(seq.length).fill(-1);
  for (let k = 0; k < seq.length; k++) {
    const v = seq[k];
    if (v < 0) continue;
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (seq[tails[mid]] < v) lo = mid + 1;
      else hi = mid;
    }
    prev[k] = lo > 0 ? tails[lo - 1] : -1;
    tails[lo] = k;
  }
  const keep = new Set();
  for (let k = tails.length ? tails[tails.length - 1] : -1; k >= 0; k = prev[k]) keep.add(k);
  return keep;
}

function applyFilter() {
  const counts = { low: 0, medium: 0, high: 0 };
  let shown = 0;
  for (const row of els.rows.children) {
    const p = state.patients.get(row.dataset.id);
    const visible = p ? matchesFilter(p) : false;
    if (row.hidden === visible) row.hidden = !visible;
    if (visible) {
      shown++;
      counts[p.data.band]++;
    }
  }
  for (const band of Object.keys(counts)) $(`count-${band}`).textContent = String(counts[band]);
  $('count-shown').textContent = `${shown} / ${state.patients.size}`;
  els.empty.hidden = state.patients.size > 0 && shown > 0;
  els.empty.textContent = state.patients.size === 0 ? 'Waiting for scores…' : 'No patient matches the filters.';
  // Units seen so far, sorted; "unknown" when the score carries none.
  const units = new Set();
  for (const p of state.patients.values()) units.add(p.data.unit ?? '\u0000unknown');
  const current = [...els.unitFilter.options].slice(1).map((o) => o.value);
  const wanted = [...units].sort();
  if (current.join('\u0001') !== wanted.join('\u0001')) {
    const selected = els.unitFilter.value;
    els.unitFilter.replaceChildren(
      new Option('All units', ''),
      ...wanted.map((u) => new Option(u === '\u0000unknown' ? 'Unknown unit' : u, u)),
    );
    els.unitFilter.value = wanted.includes(selected) ? selected : '';
  }
}

function renderChrome() {
  // Model: the model of the most recent score, and every model seen in the tooltip.
  const models = [...state.models].sort((a, b) => b.lastScoredAt - a.lastScoredAt);
  const current = models[0];
  els.model.replaceChildren();
  const label = document.createElement('span');
  label.textContent = 'Model: ';
  const name = document.createElement('b');
  name.textContent = !current ? '—' : current.mode === 'news2_only' ? 'NEWS2 only (no model loaded)' : `${current.name} ${current.version}`;
  els.model.append(label, name);
  els.model.title = models.map((m) => (m.mode === 'news2_only' ? 'NEWS2 only' : `${m.name} ${m.version}`)).join(', ');

  els.services.replaceChildren(
    ...state.health.map((s) => {
      const li = document.createElement('li');
      li.className = 'svc';
      li.dataset.state = s.state;
      li.dataset.service = s.name;
      const n = document.createElement('span');
      n.textContent = s.name;
      const st = document.createElement('span');
      st.className = 'state';
      st.textContent = s.state.replace('_', ' ');
      li.append(n, st);
      li.title = `${s.url}/health/ready: ${s.state}${s.detail ? ` — ${s.detail}` : ''}`;
      return li;
    }),
  );

  // The latest rise per patient still on the ward and not dismissed, newest first.
  const latest = new Map();
  for (const a of state.alerts) latest.set(a.patientId, a);
  const active = [...latest.values()].filter((a) => !state.dismissed.has(alertKey(a)) && state.patients.get(a.patientId)?.data.alert).reverse();
  els.alerts.hidden = active.length === 0;
  els.alertList.replaceChildren(
    ...active.slice(0, MAX_ALERTS_SHOWN).map((a) => {
      const li = document.createElement('li');
      li.className = 'alert';
      const arrow = document.createElement('span');
      arrow.className = 'arrow';
      arrow.textContent = '▲';
      arrow.setAttribute('aria-hidden', 'true');
      const link = document.createElement('a');
      link.href = `#/patient/${encodeURIComponent(a.patientId)}`;
      link.textContent = a.patientId;
      const text = document.createElement('span');
      text.textContent = `${a.unit ? `${a.unit} · ` : ''}rose ${a.from} → ${a.to} at ${clock(a.t)}`;
      const dismiss = document.createElement('button');
      dismiss.type = 'button';
      dismiss.textContent = 'Dismiss';
      dismiss.setAttribute('aria-label', `Dismiss the alert for ${a.patientId}`);
      dismiss.addEventListener('click', () => {
        state.dismissed.add(alertKey(a));
        state.chromeDirty = true;
        schedule();
      });
      li.append(arrow, link, text, dismiss);
      return li;
    }),
    ...(active.length > MAX_ALERTS_SHOWN ? [Object.assign(document.createElement('li'), { className: 'alert more', textContent: `+${active.length - MAX_ALERTS_SHOWN} more` })] : []),
  );
  document.title = `${active.length ? `(${active.length}) ` : ''}Ward severity · live`;
  els.updated.textContent = state.lastUpdate ? `last update ${clock(state.lastUpdate)}` : 'no data yet';
}

const alertKey = (a) => `${a.patientId}\u0000${a.t}`;

// ---------- patient view ----------

async function loadDetail(id) {
  const response = await fetch(`/api/patients/${encodeURIComponent(id)}`);
  if (!state.detail || state.detail.id !== id) return;
  if (!response.ok) {
    state.detail.missing = true;
  } else {
    const body = await response.json();
    state.detail.hist = body.hist;
    state.detail.missing = false;
  }
  state.detail.dirty = true;
  schedule();
}

function openDetail(id) {
  state.detail = { id, hist: [], dirty: true, opener: document.activeElement };
  els.detail.hidden = false;
  for (const el of [document.querySelector('header.top'), els.alerts, document.querySelector('nav.controls'), $('ward'), document.querySelector('footer')]) el.inert = true;
  els.detailTitle.textContent = `Patient ${id}`;
  els.detailTitle.focus();
  void loadDetail(id);
  schedule();
}

function closeDetail() {
  if (!state.detail) return;
  const { id } = state.detail;
  state.detail = null;
  els.detail.hidden = true;
  for (const el of [document.querySelector('header.top'), els.alerts, document.querySelector('nav.controls'), $('ward'), document.querySelector('footer')]) el.inert = false;
  state.patients.get(id)?.cells.link.focus();
}

function renderDetail() {
  const d = state.detail;
  d.dirty = false;
  const p = state.patients.get(d.id);
  if (!p) {
    els.detailSummary.textContent = d.missing === false ? '' : 'No recent score for this patient (discharged, idle, or not yet scored).';
    els.detailCharts.replaceChildren();
    els.detailTop.replaceChildren();
    els.detailRecent.replaceChildren();
    return;
  }
  const { data } = p;
  const hist = d.hist.length ? d.hist : p.hist;
  const item = (label, value) => {
    const div = document.createElement('div');
    const s = document.createElement('span');
    s.textContent = label;
    const b = document.createElement('b');
    b.textContent = value;
    div.append(s, b);
    return div;
  };
  els.detailSummary.replaceChildren(
    item('Band', BAND_LABEL[data.band]),
    item('Score', data.p === null ? 'NEWS2 only' : pct(data.p)),
    item('NEWS2', data.n2 === null ? '—' : `${data.n2}${data.n2b ? ` (${data.n2b.replace('_', '–')})` : ''}`),
    item('Unit', data.unit ?? 'unknown'),
    item('Encounter', data.enc ?? '—'),
    item('Model', data.model ? `${data.model.name} ${data.model.version}` : 'none (NEWS2)'),
    item('Last scored', clock(data.t)),
    item('Scoring latency', `${Math.round(data.latencyMs)} ms`),
    ...(data.alert ? [item('Alert', `rose ${data.alert.from} → ${data.alert.to} at ${clock(data.alert.t)}`)] : []),
  );
  const times = hist.map((pt) => pt[0]);
  els.detailCharts.replaceChildren(
    timeChart({ title: 'Probability of severe', unit: '%', times, values: column(hist, 'p').map((v) => (v === null ? null : v * 100)), minSpan: 10, format: (v) => v.toFixed(0) }),
    timeChart({ title: 'NEWS2', unit: '', times, values: column(hist, 'n2'), minSpan: 3, format: (v) => v.toFixed(0) }),
    ...VITALS.map((v) => timeChart({ title: v.label, unit: v.unit, times, values: column(hist, v.key), minSpan: MIN_SPAN[v.key], format: (x) => x.toFixed(v.digits) })),
  );

  const head = (...names) => {
    const tr = document.createElement('tr');
    for (const n of names) tr.append(Object.assign(document.createElement('th'), { textContent: n, scope: 'col' }));
    return tr;
  };
  const rowOf = (...cells) => {
    const tr = document.createElement('tr');
    for (const c of cells) {
      const td = document.createElement('td');
      if (c instanceof Node) td.append(c);
      else td.textContent = c;
      tr.append(td);
    }
    return tr;
  };
  const maxC = Math.max(0.0001, ...data.top.map((f) => Math.abs(f.contribution)));
  els.detailTop.replaceChildren(
    head('Feature', 'Value', 'Contribution'),
    ...data.top.map((f) => {
      const wrap = document.createElement('span');
      const bar = document.createElement('span');
      bar.className = `bar ${f.contribution >= 0 ? 'pos' : 'neg'}`;
      bar.style.width = `${(Math.abs(f.contribution) / maxC) * 6}rem`;
      wrap.append(bar, ` ${f.contribution >= 0 ? '+' : '−'}${Math.abs(f.contribution * 100).toFixed(1)}%`);
      return rowOf(prettyFeature(f.feature), f.value === null ? 'missing' : String(+f.value.toFixed(3)), wrap);
    }),
  );
  els.detailRecent.replaceChildren(
    head('Time', 'Score', 'NEWS2', ...VITALS.map((v) => v.label.split(' ')[0])),
    ...[...hist].reverse().slice(0, 15).map((pt) => rowOf(clock(pt[0]), pt[1] === null ? '—' : pct(pt[1]), fmt(pt[2]), ...VITALS.map((v, i) => fmt(pt[3 + i], v.digits)))),
  );
}

function route() {
  const m = /^#\/patient\/(.+)$/.exec(location.hash);
  if (m) {
    const id = decodeURIComponent(m[1]);
    if (state.detail?.id !== id) openDetail(id);
  } else closeDetail();
}

// ---------- controls and keyboard ----------

function visibleLinks() {
  const links = [];
  for (const row of els.rows.children) if (!row.hidden) links.push(row.querySelector('a.pid'));
  return links;
}

document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && state.detail) {
    e.preventDefault();
    location.hash = '#/';
    return;
  }
  const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement;
  if (e.key === '/' && !typing && !state.detail) {
    e.preventDefault();
    els.search.focus();
    return;
  }
  if ((e.key === 'ArrowDown' || e.key === 'ArrowUp' || e.key === 'Home' || e.key === 'End') && !typing && !state.detail) {
    const links = visibleLinks();
    if (!links.length) return;
    const i = links.indexOf(document.activeElement);
    const next = e.key === 'Home' ? 0 : e.key === 'End' ? links.length - 1 : i < 0 ? 0 : Math.max(0, Math.min(links.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)));
    e.preventDefault();
    links[next].focus();
    links[next].scrollIntoView({ block: 'nearest' });
  }
});

// A filter the user changed applies at once (not on the next frame).
const refilter = () => {
  state.filterDirty = true;
  if (state.frame) cancelAnimationFrame(state.frame);
  render();
};
for (const el of [els.unitFilter, els.bandFilter]) el.addEventListener('change', refilter);
els.search.addEventListener('input', refilter);
els.detailClose.addEventListener('click', () => { location.hash = '#/'; });
els.detail.addEventListener('click', (e) => { if (e.target === els.detail) location.hash = '#/'; });

function setWall(on) {
  document.body.classList.toggle('wall', on);
  els.wall.setAttribute('aria-pressed', String(on));
  try { localStorage.setItem('dashboard.wall', on ? '1' : '0'); } catch { /* private mode */ }
}
els.wall.addEventListener('click', () => setWall(!document.body.classList.contains('wall')));
const params = new URLSearchParams(location.search);
setWall(params.has('wall') ? params.get('wall') !== '0' : (() => { try { return localStorage.getItem('dashboard.wall') === '1'; } catch { return false; } })());
if (params.get('unit')) state.pendingUnit = params.get('unit');

window.addEventListener('hashchange', route);

// ---------- the live feed ----------

function connect() {
  const source = new EventSource('/events');
  const setConn = (s, text) => {
    document.body.dataset.connection = s;
    els.conn.textContent = text;
  };
  source.addEventListener('open', () => setConn('live', 'live'));
  source.addEventListener('snapshot', (e) => {
    setConn('live', 'live');
    onSnapshot(JSON.parse(e.data));
    if (state.pendingUnit) {
      applyFilter();
      els.unitFilter.value = state.pendingUnit;
      state.pendingUnit = null;
      state.filterDirty = true;
    }
    route();
  });
  source.addEventListener('update', (e) => onUpdate(JSON.parse(e.data)));
  source.addEventListener('error', () => setConn('reconnecting', 'reconnecting…'));
}

connect();
