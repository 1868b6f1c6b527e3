// @ts-check
// The ward's alerts to act on, from the alerting service (through /api/alerts, which forwards
// with this person's own token): open and escalated alerts first, escalated ones marked apart;
// each can be acknowledged, or dismissed with a reason from the short list. Acknowledged alerts
// leave the list to act on and wait, folded, until they resolve. The list is polled (the
// alerting service owns the state; it pushes nothing to browsers) and reloaded after each action.

/**
 * An open alert as GET /alerts of the alerting service gives it (services/alerting/src/app.ts).
 * @typedef {{
 *   alertId: string, patientId: string, kind: string, severity: 'low' | 'medium' | 'high',
 *   status: 'open' | 'acknowledged' | 'escalated', unit: string | null, raisedAt: string,
 *   escalateAt: string | null, escalatedAt: string | null, acknowledgedAt: string | null,
 *   acknowledgedBy: string | null, reason: string, probability: number | null, news2: number | null
 * }} WardAlert
 */
/** @typedef {{ alerts: WardAlert[], dismissReasons: string[] }} AlertList */

const POLL_MS = 5_000;
/** What a clinician reads for each of the contract's dismiss reasons (DISMISS_REASONS). */
const REASON_LABEL = new Map([
  ['not_clinically_relevant', 'Clinically reviewed, no action needed'],
  ['expected_for_patient', 'Known / expected for this patient'],
  ['measurement_error', 'Artefact / erroneous data'],
  ['already_managed', 'Already escalated / being managed'],
  ['end_of_life_care', 'End-of-life care'],
]);
const KIND_LABEL = new Map([
  ['deterioration', 'Deterioration'],
  ['observations_overdue', 'Observations overdue'],
]);
const SEVERITY_LABEL = new Map([
  ['low', '● Low'],
  ['medium', '▲ Medium'],
  ['high', '◆ High'],
]);
/** The contract's actor pattern (AlertActor): checked here so a typo is told before sending. */
const STAFF_ID = /^[A-Za-z0-9._:@-]{1,64}$/;

/**
 * @param {string} id
 * @returns {HTMLElement}
 */
function el(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found;
}

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
function make(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * JSON of the alerting service's GET /alerts, as the typedef above says (lint cannot see
 * through a JSDoc cast, hence the one exception, as in app.js).
 * @param {string} text
 * @returns {AlertList}
 */
function fromAlerting(text) {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-return
  return JSON.parse(text);
}

const clockTime = (/** @type {string} */ iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

export function startAlerts() {
  const section = el('ward-alerts');
  const openList = el('open-alerts');
  const ackedList = el('acked-alerts');
  const ackedCount = el('acked-count');
  const openCount = el('open-count');
  const status = el('ward-alerts-status');
  const staff = /** @type {HTMLInputElement} */ (el('staff-id'));
  try { staff.value = localStorage.getItem('dashboard.staffId') ?? ''; } catch { /* private mode */ }
  staff.addEventListener('change', () => {
    try { localStorage.setItem('dashboard.staffId', staff.value.trim()); } catch { /* private mode */ }
  });
  /** @type {string[]} */
  let reasons = [];
  /** @type {Map<string, HTMLLIElement>} keyed by alert id and status: an alert that changes status is drawn again */
  const drawn = new Map();
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;

  /** @param {string} text */
  const say = (text) => { status.textContent = text; };

  /** @returns {{ by?: string } | null} the actor part of a command body, or null when the staff id is not valid */
  function actor() {
    const by = staff.value.trim();
    if (by === '') return {};
    if (!STAFF_ID.test(by)) {
      say('The staff id may hold letters, digits and . _ : @ - only (at most 64).');
      staff.focus();
      return null;
    }
    return { by };
  }

  /**
   * @param {WardAlert} a
   * @param {'acknowledge' | 'dismiss'} action
   * @param {Record<string, string>} body
   */
  async function command(a, action, body) {
    const response = await fetch(`/api/alerts/${encodeURIComponent(a.alertId)}/${action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).catch(() => null);
    if (!response) say(`Could not reach the dashboard to ${action} the alert for ${a.patientId}.`);
    else if (response.ok) say(action === 'acknowledge' ? `Acknowledged the alert for ${a.patientId}.` : `Dismissed the alert for ${a.patientId}.`);
    else if (response.status === 409) say(`The alert for ${a.patientId} had already closed.`);
    else say(`The alerting service refused to ${action} the alert for ${a.patientId} (${response.status}).`);
    await load();
  }

  /**
   * @param {WardAlert} a
   * @returns {HTMLLIElement}
   */
  function draw(a) {
    const li = make('li', 'ward-alert');
    li.dataset.alertId = a.alertId;
    li.dataset.status = a.status;
    li.dataset.severity = a.severity;
    const head = make('div', 'wa-head');
    if (a.status === 'escalated') head.append(make('span', 'wa-escalated', '⚠ Escalated'));
    const badge = make('span', 'badge', SEVERITY_LABEL.get(a.severity) ?? a.severity);
    badge.dataset.level = a.severity;
    head.append(badge);
    const patient = make('a', 'wa-patient', a.patientId);
    patient.href = `#/patient/${encodeURIComponent(a.patientId)}`;
    head.append(patient, make('span', 'wa-unit', a.unit ?? 'Unknown unit'), make('span', 'wa-kind', KIND_LABEL.get(a.kind) ?? a.kind));
    const time = make('time', 'wa-time', `raised ${clockTime(a.raisedAt)}`);
    time.dateTime = a.raisedAt;
    head.append(time);
    li.append(head, make('p', 'wa-reason', a.reason));
    if (a.status === 'escalated' && a.escalatedAt) li.append(make('p', 'wa-note', `not acknowledged in time: escalated at ${clockTime(a.escalatedAt)}`));
    if (a.status === 'acknowledged' && a.acknowledgedAt) li.append(make('p', 'wa-note', `acknowledged ${clockTime(a.acknowledgedAt)}${a.acknowledgedBy ? ` by ${a.acknowledgedBy}` : ''}`));

    const actions = make('div', 'wa-actions');
    if (a.status !== 'acknowledged') {
      const ack = make('button', 'wa-ack', 'Acknowledge');
      ack.type = 'button';
      ack.addEventListener('click', () => {
        const who = actor();
        if (!who) return;
        ack.disabled = true;
        void command(a, 'acknowledge', who);
      });
      actions.append(ack);
    }
    const select = make('select', 'wa-reason-select');
    select.setAttribute('aria-label', `Why dismiss the alert for ${a.patientId}`);
    const placeholder = make('option', undefined, 'Dismiss because…');
    placeholder.value = '';
    select.append(placeholder);
    for (const reason of reasons) {
      const option = make('option', undefined, REASON_LABEL.get(reason) ?? reason);
      option.value = reason;
      select.append(option);
    }
    const dismiss = make('button', 'wa-dismiss', 'Dismiss');
    dismiss.type = 'button';
    dismiss.disabled = true;
    select.addEventListener('change', () => { dismiss.disabled = select.value === ''; });
    dismiss.addEventListener('click', () => {
      const who = actor();
      if (!who || select.value === '') return;
      dismiss.disabled = true;
      void command(a, 'dismiss', { reason: select.value, ...who });
    });
    actions.append(select, dismiss);
    li.append(actions);
    return li;
  }

  /** @param {WardAlert[]} alerts */
  function render(alerts) {
    // Escalated first, then by severity, then newest: what needs a person most comes first.
    const rank = (/** @type {WardAlert} */ a) => (a.status === 'escalated' ? 0 : 1) * 10 + (a.severity === 'high' ? 0 : a.severity === 'medium' ? 1 : 2);
    const sorted = [...alerts].sort((x, y) => rank(x) - rank(y) || y.raisedAt.localeCompare(x.raisedAt));
    const keep = new Set();
    /** @type {HTMLLIElement[]} */
    const toAct = [];
    /** @type {HTMLLIElement[]} */
    const acked = [];
    for (const a of sorted) {
      const key = `${a.alertId} ${a.status}`;
      keep.add(key);
      let li = drawn.get(key);
      if (!li) {
        li = draw(a);
        drawn.set(key, li);
      }
      (a.status === 'acknowledged' ? acked : toAct).push(li);
    }
    for (const key of [...drawn.keys()]) if (!keep.has(key)) drawn.delete(key);
    openList.replaceChildren(...toAct);
    ackedList.replaceChildren(...acked);
    openCount.textContent = String(toAct.length);
    ackedCount.textContent = String(acked.length);
    section.dataset.escalated = String(sorted.some((a) => a.status === 'escalated'));
  }

  async function load() {
    if (timer) clearTimeout(timer);
    try {
      const response = await fetch('/api/alerts', { headers: { accept: 'application/json' } });
      if (response.status === 204) {
        section.hidden = true; // no alerting service in this deployment: nothing to show
      } else if (response.ok) {
        const list = fromAlerting(await response.text());
        if (reasons.join() !== list.dismissReasons.join()) {
          reasons = list.dismissReasons;
          drawn.clear();
        }
        section.hidden = false;
        section.dataset.state = 'ok';
        render(list.alerts);
      } else {
        section.hidden = false;
        section.dataset.state = 'error';
        say(`Alerts are unavailable right now (${response.status}); retrying.`);
      }
    } catch {
      section.dataset.state = 'error';
      say('Alerts are unavailable right now; retrying.');
    }
    timer = setTimeout(() => void load(), POLL_MS);
  }

  void load();
}
