// @ts-check
// The ward page: a snapshot, then coalesced updates over server-sent events (/events).
// Every patient is one row (data-band = low | medium | high) sorted by severity; a row
// is built once and then patched in place, and the DOM is touched once per frame.
// The wire types are the server's own (src/ward.ts, src/stream.ts), checked by tsc
// (`checkJs`); the layout of a time-series point and the vitals come in the snapshot.
import { startAlerts } from './alerts.js';
import { clock, MIN_SPAN, sparkPath, timeChart } from './charts.js';

/** @typedef {import('../src/ward.js').PatientView} PatientView */
/** @typedef {import('../src/ward.js').PatientWire} PatientWire */
/** @typedef {import('../src/ward.js').WardDelta} WardDelta */
/** @typedef {import('../src/ward.js').BandAlert} BandAlert */
/** @typedef {import('../src/ward.js').ModelSeen} ModelSeen */
/** @typedef {import('../src/ward.js').Point} Point */
/** @typedef {import('../src/health.js').ServiceHealth} ServiceHealth */
/** @typedef {import('../src/login.js').Access} Access */
/** @typedef {ReturnType<import('../src/stream.js').WardStream['snapshot']>} Snapshot */
/** @typedef {WardDelta & { health?: ServiceHealth[] }} Update */
/** @typedef {Snapshot['config']['vitals'][number]} Vital */
/** @typedef {PatientView['band']} Band */
/** @typedef {{ val: HTMLElement, path: SVGPathElement, cell: HTMLElement }} NumericCell */
/**
 * @typedef {{
 *   link: HTMLAnchorElement, enc: HTMLElement, unit: HTMLElement, badge: HTMLElement,
 *   score: NumericCell, n2: NumericCell, vitals: NumericCell[], tops: HTMLElement, time: HTMLTimeElement
 * }} Cells
 */
/**
 * @typedef {{ data: PatientView, hist: Point[], row: HTMLElement, cells: Cells, dirty: boolean, topsKey?: string, shownT?: number }} Row
 */
/**
 * @typedef {{ id: string, hist: Point[], dirty: boolean, opener: Element | null, missing?: boolean }} Detail
 */

/** @type {Readonly<Record<Band, number>>} */
const BAND_RANK = { low: 0, medium: 1, high: 2 };
/** @type {Readonly<Record<Band, string>>} */
const BAND_LABEL = { low: '● Low', medium: '▲ Medium', high: '◆ High' };
const MAX_ALERTS_SHOWN = 6;

/**
 * The element with this id, of this type (the page is broken without it).
 * @template {Element} [T=HTMLElement]
 * @param {string} id
 * @param {new (...args: never[]) => T} [type]
 * @returns {T}
 */
function $(id, type) {
  const el = document.getElementById(id);
  if (!el || (type && !(el instanceof type))) throw new Error(`the page has no #${id}`);
  return /** @type {T} */ (/** @type {unknown} */ (el));
}

/**
 * The first element under `root` matching `selector`, of this type.
 * @template {Element} [T=HTMLElement]
 * @param {ParentNode} root
 * @param {string} selector
 * @param {new (...args: never[]) => T} [type]
 * @returns {T}
 */
function find(root, selector, type) {
  const el = root.querySelector(selector);
  if (!el || (type && !(el instanceof type))) throw new Error(`the row template has no ${selector}`);
  return /** @type {T} */ (/** @type {unknown} */ (el));
}

/**
 * JSON from this dashboard's own server, typed as the server's types say (tsc checks the
 * two agree; lint cannot see through a JSDoc cast, hence the one exception).
 * @template T
 * @param {string} text
 * @returns {T}
 */
function fromServer(text) {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-return
  return JSON.parse(text);
}

const els = {
  rows: $('rows'),
  table: $('table'),
  empty: $('empty'),
  conn: $('conn'),
  model: $('model'),
  services: $('services'),
  alerts: $('alerts'),
  alertList: $('alert-list'),
  unitFilter: $('unit-filter', HTMLSelectElement),
  bandFilter: $('band-filter', HTMLSelectElement),
  search: $('search', HTMLInputElement),
  wall: $('wall-toggle'),
  signOut: $('sign-out', HTMLFormElement),
  updated: $('updated'),
  pushInfo: $('push-info'),
  detail: $('detail'),
  detailTitle: $('detail-title'),
  detailClose: $('detail-close'),
  detailSummary: $('detail-summary'),
  detailCharts: $('detail-charts'),
  detailTop: $('detail-top'),
  detailRecent: $('detail-recent'),
  template: $('row-template', HTMLTemplateElement),
};

const state = {
  /** @type {Map<string, Row>} */
  patients: new Map(),
  /** @type {BandAlert[]} */
  alerts: [],
  /** @type {Set<string>} */
  dismissed: new Set(),
  /** @type {ModelSeen[]} */
  models: [],
  /** @type {ServiceHealth[]} */
  health: [],
  sparkPoints: 40,
  /** The layout of a time-series point, as the server sends it (`[t, p, n2, hr, …]`). @type {readonly string[]} */
  pointFields: /** @type {readonly string[]} */ ([]),
  /** The vitals drawn per row, in column order, with their names, units and digits. @type {readonly Vital[]} */
  vitals: /** @type {readonly Vital[]} */ ([]),
  lastUpdate: 0,
  orderDirty: true,
  filterDirty: true,
  chromeDirty: true,
  /** [id, eventTime] of rows patched since the last frame (for tests and the bench). @type {[string, number][]} */
  rendered: /** @type {[string, number][]} */ ([]),
  /** @type {Detail | null} */
  detail: null,
  frame: 0,
  /** @type {string | null} */
  pendingUnit: null,
};

// ---------- formatting ----------

/** @param {number | null | undefined} v @param {number} [digits] */
const fmt = (v, digits = 0) => (v === null || v === undefined ? '—' : v.toFixed(digits));
/** @param {number | null | undefined} p */
const pct = (p) => (p === null || p === undefined ? '—' : `${Math.round(p * 100)}%`);
/** @param {string} name */
const prettyFeature = (name) => name.replace(/_/g, ' ');

/** @param {(number | null)[]} values */
function trend(values) {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length < 2) return '';
  const a = /** @type {number} */ (present[present.length - 2]);
  const b = /** @type {number} */ (present[present.length - 1]);
  if (b > a) return '↑';
  if (b < a) return '↓';
  return '';
}

/**
 * One series of a patient's points, by its field name (`p`, `n2`, `hr`, …).
 * @param {Point[]} hist
 * @param {string} key
 * @returns {(number | null)[]}
 */
function column(hist, key) {
  const i = state.pointFields.indexOf(key);
  return hist.map((pt) => (i < 0 ? null : pt[i] ?? null));
}

// ---------- rows ----------

/**
 * @param {string} id
 * @returns {{ row: HTMLElement, cells: Cells }}
 */
function createRow(id) {
  const row = /** @type {HTMLElement} */ (/** @type {Element} */ (els.template.content.firstElementChild).cloneNode(true));
  row.dataset.id = id;
  /** @param {number} i */
  const cell = (i) => /** @type {HTMLElement} */ (row.children[i]);
  const link = find(cell(0), 'a', HTMLAnchorElement);
  link.href = `#/patient/${encodeURIComponent(id)}`;
  link.textContent = id;
  /** @param {HTMLElement} c @returns {NumericCell} */
  const numeric = (c) => ({ val: find(c, '.val'), path: find(c, 'path', SVGPathElement), cell: c });
  return {
    row,
    cells: {
      link,
      enc: find(cell(0), '.enc'),
      unit: cell(1),
      badge: find(cell(2), '.badge'),
      score: numeric(cell(3)),
      n2: numeric(cell(4)),
      vitals: state.vitals.map((_, i) => numeric(cell(5 + i))),
      tops: find(cell(10), 'ol'),
      time: find(cell(11), 'time', HTMLTimeElement),
    },
  };
}

/** @param {Row} p */
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
  // A band raised to NEWS2's response tier (the model read calmer) is marked, with the reason.
  cells.badge.dataset.source = data.bs ?? '';
  cells.badge.title = data.br ?? '';

  const scoreValues = column(hist, 'p');
  setNumeric(cells.score, data.p === null ? 'NEWS2' : `${pct(data.p)}${trend(scoreValues)}`, data.p === null, scoreValues, MIN_SPAN.p, trend(scoreValues));
  cells.score.cell.title = data.mode === 'news2_only' ? 'No model loaded: band from NEWS2' : `Probability of severe (${data.model?.name ?? 'model'} ${data.model?.version ?? ''})`;
  const n2Values = column(hist, 'n2');
  setNumeric(cells.n2, data.n2 === null ? '—' : `${data.n2}${trend(n2Values)}`, data.n2 === null, n2Values, MIN_SPAN.n2, trend(n2Values));
  cells.n2.cell.title = data.n2b ? `NEWS2 ${data.n2} (${data.n2b.replace('_', '–')})` : 'NEWS2';
  state.vitals.forEach((v, i) => {
    const target = cells.vitals[i];
    if (!target) return;
    const values = column(hist, v.key);
    const value = data.v[v.key] ?? null;
    setNumeric(target, fmt(value, v.digits), value === null, values, MIN_SPAN[v.key], '');
    target.cell.title = value === null ? `${v.title}: not measured` : `${v.title} ${fmt(value, v.digits)} ${v.unit}`;
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

/**
 * @param {NumericCell} target
 * @param {string} text
 * @param {boolean} missing
 * @param {(number | null)[]} values
 * @param {number | undefined} minSpan
 * @param {string} arrow
 */
function setNumeric(target, text, missing, values, minSpan, arrow) {
  target.val.textContent = text;
  target.val.classList.toggle('missing', missing);
  target.val.classList.toggle('trend-up', arrow === '↑');
  target.val.classList.toggle('trend-down', arrow === '↓');
  target.path.setAttribute('d', sparkPath(values, minSpan));
}

/** @param {Row} a @param {Row} b */
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

/** @param {PatientWire} wire */
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
    for (const pt of add) if (pt[0] > (p.hist[p.hist.length - 1]?.[0] ?? -Infinity)) p.hist.push(pt);
    if (p.hist.length > state.sparkPoints) p.hist.splice(0, p.hist.length - state.sparkPoints);
  }
  p.dirty = true;
  state.orderDirty = true;
  if (state.detail && state.detail.id === wire.id) {
    if (hist) void loadDetail(wire.id);
    else if (add) {
      const h = state.detail.hist;
      for (const pt of add) if (pt[0] > (h[h.length - 1]?.[0] ?? -Infinity)) h.push(pt);
      if (h.length > 2000) h.splice(0, h.length - 2000);
    }
    state.detail.dirty = true;
  }
}

/** @param {string} id */
function remove(id) {
  const p = state.patients.get(id);
  if (!p) return;
  p.row.remove();
  state.patients.delete(id);
  state.filterDirty = true;
}

/** @param {Snapshot} snap */
function onSnapshot(snap) {
  for (const p of state.patients.values()) p.row.remove();
  state.patients.clear();
  state.sparkPoints = snap.config.sparkPoints;
  state.pointFields = snap.config.pointFields;
  state.vitals = snap.config.vitals;
  els.pushInfo.textContent = `updates every ${snap.config.pushIntervalMs} ms`;
  for (const wire of snap.patients) upsert(wire);
  state.alerts = snap.alerts;
  state.models = snap.models;
  state.health = snap.health;
  state.lastUpdate = snap.generatedAt;
  state.chromeDirty = true;
  schedule();
}

/** @param {Update} delta */
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

/** @param {Row} p */
function matchesFilter(p) {
  const unit = els.unitFilter.value;
  const band = /** @type {Band | ''} */ (els.bandFilter.value);
  const q = els.search.value.trim().toLowerCase();
  if (unit && (p.data.unit ?? '\u0000unknown') !== unit) return false;
  if (band && BAND_RANK[p.data.band] < BAND_RANK[band]) return false;
  if (q && !p.data.id.toLowerCase().includes(q)) return false;
  return true;
}

function render() {
  state.frame = 0;
  const started = performance.now();
  /** @type {Record<string, number>} */
  const phases = {};
  let mark = started;
  /** @param {string} name */
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
/** @param {Row[]} ordered */
function reorder(ordered) {
  /** @type {Map<Element, number>} */
  const position = new Map();
  let i = 0;
  for (const row of els.rows.children) position.set(row, i++);
  const seq = ordered.map((p) => position.get(p.row) ?? -1);
  const keep = longestIncreasing(seq);
  /** @type {HTMLElement | null} */
  let anchor = null;
  for (let k = ordered.length - 1; k >= 0; k--) {
    const row = /** @type {Row} */ (ordered[k]).row;
    if (!keep.has(k)) els.rows.insertBefore(row, anchor);
    anchor = row;
  }
}

/** Indices of a longest strictly increasing subsequence of seq (entries < 0 never kept). O(n log n). */
/**
 * @param {number[]} seq
 * @returns {Set<number>}
 */
function longestIncreasing(seq) {
  /** @type {number[]} index into seq of the smallest tail of each length */
  const tails = [];
  /** @type {number[]} */
  const prev = new Array(seq.length).fill(-1);
  /** @param {number} i */
  const at = (i) => /** @type {number} */ (seq[i]);
  for (let k = 0; k < seq.length; k++) {
    const v = at(k);
    if (v < 0) continue;
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (at(/** @type {number} */ (tails[mid])) < v) lo = mid + 1;
      else hi = mid;
    }
    prev[k] = lo > 0 ? /** @type {number} */ (tails[lo - 1]) : -1;
    tails[lo] = k;
  }
  /** @type {Set<number>} */
  const keep = new Set();
  for (let k = tails[tails.length - 1] ?? -1; k >= 0; k = /** @type {number} */ (prev[k])) keep.add(k);
  return keep;
}

function applyFilter() {
  /** @type {Record<Band, number>} */
  const counts = { low: 0, medium: 0, high: 0 };
  let shown = 0;
  for (const el of els.rows.children) {
    const row = /** @type {HTMLElement} */ (el);
    const p = state.patients.get(row.dataset.id ?? '');
    const visible = p ? matchesFilter(p) : false;
    if (row.hidden === visible) row.hidden = !visible;
    if (p && visible) {
      shown++;
      counts[p.data.band]++;
    }
  }
  for (const band of /** @type {Band[]} */ (['low', 'medium', 'high'])) $(`count-${band}`).textContent = String(counts[band]);
  $('count-shown').textContent = `${shown} / ${state.patients.size}`;
  els.empty.hidden = state.patients.size > 0 && shown > 0;
  els.empty.textContent = state.patients.size === 0 ? 'Waiting for scores…' : 'No patient matches the filters.';
  // Units seen so far, sorted; "unknown" when the score carries none.
  /** @type {Set<string>} */
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
  /** @type {Map<string, BandAlert>} */
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

/** @param {BandAlert} a */
const alertKey = (a) => `${a.patientId}\u0000${a.t}`;

// ---------- patient view ----------

/** @param {string} id */
async function loadDetail(id) {
  const response = await fetch(`/api/patients/${encodeURIComponent(id)}`);
  if (response.status === 401) return signIn();
  if (!state.detail || state.detail.id !== id) return;
  if (!response.ok) {
    state.detail.missing = true;
  } else {
    /** @type {{ hist: Point[] }} */
    const body = fromServer(await response.text());
    state.detail.hist = body.hist;
    state.detail.missing = false;
  }
  state.detail.dirty = true;
  schedule();
}

/** The page behind the patient view, made inert while it is open. */
const behindDetail = () => [find(document, 'header.top'), els.alerts, $('ward-alerts'), find(document, 'nav.controls'), $('ward'), find(document, 'footer')];

/** @param {string} id */
function openDetail(id) {
  state.detail = { id, hist: [], dirty: true, opener: document.activeElement };
  els.detail.hidden = false;
  for (const el of behindDetail()) el.inert = true;
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
  for (const el of behindDetail()) el.inert = false;
  state.patients.get(id)?.cells.link.focus();
}

function renderDetail() {
  const d = state.detail;
  if (!d) return;
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
  /** @param {string} label @param {string} value */
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
    ...(data.bs ? [item('Band set by', data.bs === 'news2' ? 'NEWS2 response tier (model read calmer)' : 'model')] : []),
    ...(data.br ? [item('Why', data.br)] : []),
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
    ...state.vitals.map((v) => timeChart({ title: v.title, unit: v.unit, times, values: column(hist, v.key), minSpan: MIN_SPAN[v.key] ?? 0, format: (x) => x.toFixed(v.digits) })),
  );

  /** @param {string[]} names */
  const head = (...names) => {
    const tr = document.createElement('tr');
    for (const n of names) tr.append(Object.assign(document.createElement('th'), { textContent: n, scope: 'col' }));
    return tr;
  };
  /** @param {(string | Node)[]} cells */
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
    head('Time', 'Score', 'NEWS2', ...state.vitals.map((v) => v.label)),
    ...[...hist]
      .reverse()
      .slice(0, 15)
      .map((pt) => {
        /** @param {string} key */
        const at = (key) => pt[state.pointFields.indexOf(key)] ?? null;
        return rowOf(clock(pt[0]), pct(at('p')), fmt(at('n2')), ...state.vitals.map((v) => fmt(at(v.key), v.digits)));
      }),
  );
}

function route() {
  const m = /^#\/patient\/(.+)$/.exec(location.hash);
  if (m?.[1]) {
    const id = decodeURIComponent(m[1]);
    if (state.detail?.id !== id) openDetail(id);
  } else closeDetail();
}

// ---------- controls and keyboard ----------

function visibleLinks() {
  /** @type {HTMLAnchorElement[]} */
  const links = [];
  for (const row of els.rows.children) if (!(/** @type {HTMLElement} */ (row).hidden)) links.push(find(row, 'a.pid', HTMLAnchorElement));
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
    const i = links.indexOf(/** @type {HTMLAnchorElement} */ (document.activeElement));
    const next = e.key === 'Home' ? 0 : e.key === 'End' ? links.length - 1 : i < 0 ? 0 : Math.max(0, Math.min(links.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)));
    e.preventDefault();
    links[next]?.focus();
    links[next]?.scrollIntoView({ block: 'nearest' });
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

/** @param {boolean} on */
function setWall(on) {
  document.body.classList.toggle('wall', on);
  els.wall.setAttribute('aria-pressed', String(on));
  try { localStorage.setItem('dashboard.wall', on ? '1' : '0'); } catch { /* private mode */ }
}
els.wall.addEventListener('click', () => setWall(!document.body.classList.contains('wall')));
const params = new URLSearchParams(location.search);
setWall(params.has('wall') ? params.get('wall') !== '0' : (() => { try { return localStorage.getItem('dashboard.wall') === '1'; } catch { return false; } })());
state.pendingUnit = params.get('unit') || null;

window.addEventListener('hashchange', route);

// ---------- the live feed ----------

/** The session is over (or never began): the login form, which comes back here. */
function signIn() {
  location.assign('/login');
}

/** @param {string} s @param {string} text */
function setConn(s, text) {
  document.body.dataset.connection = s;
  els.conn.textContent = text;
}

function connect() {
  const source = new EventSource('/events');
  source.addEventListener('open', () => setConn('live', 'live'));
  source.addEventListener('snapshot', (/** @type {MessageEvent<string>} */ e) => {
    setConn('live', 'live');
    onSnapshot(fromServer(e.data));
    if (state.pendingUnit) {
      applyFilter();
      els.unitFilter.value = state.pendingUnit;
      state.pendingUnit = null;
      state.filterDirty = true;
    }
    route();
  });
  source.addEventListener('update', (/** @type {MessageEvent<string>} */ e) => onUpdate(fromServer(e.data)));
  source.addEventListener('error', () => {
    setConn('reconnecting', 'reconnecting…');
    // EventSource retries by itself after a dropped stream, but not after an answer other
    // than 200 (401 signed out, 429/503 too many pages): find out which, then act.
    if (source.readyState !== EventSource.CLOSED) return;
    void fetch('/api/session').then(
      (r) => (r.status === 401 ? signIn() : void setTimeout(connect, 10_000)),
      () => void setTimeout(connect, 10_000),
    );
  });
}

// "Sign out" only where there is something to sign out of.
void fetch('/api/session').then(async (r) => {
  if (r.status === 401) return signIn();
  /** @type {Access} */
  const access = fromServer(await r.text());
  els.signOut.hidden = access.via !== 'cookie';
  startAlerts();
});
connect();
