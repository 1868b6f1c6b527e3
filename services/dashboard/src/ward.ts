import type { News2Band, SeverityBand, SeverityScoreEvent, TopFeature } from '@ehr/features';
import { KEY_VITALS, VitalExtractor, type VitalKey } from './vitals.js';

export const BAND_RANK: Readonly<Record<SeverityBand, number>> = { low: 0, medium: 1, high: 2 };

/**
 * One score on a patient's time series, as compact as JSON allows:
 * `[eventTime ms, probability, news2, hr, rr, spo2, sbp, temp]` (null where unknown).
 */
export type Point = [number, ...(number | null)[]];
export const POINT_FIELDS = ['t', 'p', 'n2', ...KEY_VITALS.map((v) => v.key)] as const;

/**
 * One score as GET /fhir/RiskAssessment shows it, kept per patient beside the time series
 * (the same bound, DASHBOARD_HISTORY_POINTS, one per event time).
 */
export interface ScoreRecord {
  scoreId: string;
  encounterId: string | null;
  /** Event time the score describes (epoch ms). */
  t: number;
  scoredAt: number;
  mode: 'model' | 'news2_only';
  probability: number | null;
  band: SeverityBand;
  news2: number | null;
  news2Band: News2Band | null;
  model: { name: string; version: string } | null;
  /** The raw event whose arrival produced the score. */
  triggerEventId: string | null;
}

export interface BandAlert {
  patientId: string;
  unit: string | null;
  from: SeverityBand;
  to: SeverityBand;
  /** Event time of the score that raised the band (epoch ms). */
  t: number;
  /** When the dashboard saw it (epoch ms). */
  at: number;
}

/** What the ward view shows for one patient: the latest score, flattened. */
export interface PatientView {
  id: string;
  enc: string | null;
  unit: string | null;
  band: SeverityBand;
  /**
   * Which rule set the band: the model, or NEWS2's own response tier when the model read
   * calmer (the band is never calmer than NEWS2); null from scorers before band sources.
   */
  bs: 'model' | 'news2' | null;
  /** Why, in one line (e.g. "NEWS2 7 calls for an emergency response: model said medium"). */
  br: string | null;
  p: number | null;
  n2: number | null;
  n2b: string | null;
  mode: 'model' | 'news2_only';
  model: { name: string; version: string } | null;
  /** Event time of the latest score (epoch ms). */
  t: number;
  scoredAt: number;
  /** When the dashboard received it (epoch ms). */
  at: number;
  latencyMs: number;
  v: Record<VitalKey, number | null>;
  top: TopFeature[];
  alert: BandAlert | null;
}

export type PatientWire = PatientView & { add?: Point[]; hist?: Point[] };

/** Models (and NEWS2-only scoring) the ward lists at most: a champion, a challenger and their recent predecessors fit many times over. */
export const MAX_MODELS_LISTED = 16;

export interface ModelSeen {
  mode: 'model' | 'news2_only';
  name: string | null;
  version: string | null;
  lastScoredAt: number;
  scores: number;
}

export interface WardDelta {
  upserts: PatientWire[];
  removed: string[];
  alerts: BandAlert[];
  models?: ModelSeen[];
}

export interface WardSnapshot {
  generatedAt: number;
  patients: (PatientView & { hist: Point[] })[];
  alerts: BandAlert[];
  models: ModelSeen[];
}

export interface WardOptions {
  historyPoints: number;
  maxPatients: number;
  patientTtlMs: number;
  alertTtlMs: number;
  /** Band-rise alerts kept at most: a ring, the oldest leave first (default 500). */
  maxAlerts?: number;
  topFeatures?: number;
  vitals?: VitalExtractor;
  now?: () => number;
}

interface PatientState {
  view: PatientView;
  scoreId: string;
  history: Point[];
  scores: ScoreRecord[];
  lastSeen: number;
}

interface Pending {
  /** Points appended at the end since the last drain (sent as `add`). */
  added: Point[];
  /** History changed other than by appending (a late score): resend it whole. */
  reset: boolean;
}

const round = (x: number | null, digits: number): number | null => {
  if (x === null || !Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/**
 * The ward picture, bounded: the latest score and a ring of recent points per patient,
 * patients evicted after a TTL without scores or past a cap (longest idle first), and
 * the changes since the last drain so that updates to browsers can be coalesced.
 */
export class WardState {
  private readonly patients = new Map<string, PatientState>();
  private readonly pending = new Map<string, Pending>();
  private readonly removed = new Set<string>();
  private newAlerts: BandAlert[] = [];
  private alerts: BandAlert[] = [];
  private readonly models = new Map<string, ModelSeen>();
  private modelsChanged = false;
  private readonly vitals: VitalExtractor;
  private readonly now: () => number;

  constructor(private readonly options: WardOptions) {
    this.vitals = options.vitals ?? new VitalExtractor();
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.patients.size;
  }

  get activeAlerts(): number {
    return this.alerts.length;
  }

  /** Folds one score in. Late scores (older than the latest) only join the time series. */
  apply(score: SeverityScoreEvent, receivedAt = this.now()): 'new' | 'updated' | 'late' {
    const p = score.payload;
    const t = Date.parse(p.eventTime);
    const vitals = this.vitals.extractFrom(p);
    for (const { key } of KEY_VITALS) vitals[key] = round(vitals[key], 1);
    const probability = round(p.probability, 4);
    const point: Point = [t, probability, p.news2, ...KEY_VITALS.map(({ key }) => vitals[key])];
    const record: ScoreRecord = {
      scoreId: p.scoreId,
      encounterId: score.encounterId,
      t,
      scoredAt: Date.parse(p.scoredAt),
      mode: p.mode,
      probability: p.probability,
      band: p.band,
      news2: p.news2,
      news2Band: p.news2Band,
      model: p.model,
      triggerEventId: p.triggerEventId ?? null,
    };
    const unit = p.context?.unit ?? null;

    const id = score.patientId;
    let state = this.patients.get(id);
    const outcome: 'new' | 'updated' | 'late' = !state ? 'new' : t >= state.view.t ? 'updated' : 'late';
    this.noteModel(p.mode, p.model, Date.parse(p.scoredAt));

    if (state && outcome === 'late') {
      insertByTime(state.scores, record, (r) => r.t, this.options.historyPoints);
      const reset = this.insertPoint(state, point);
      this.touch(id, state, receivedAt);
      this.mark(id, point, reset);
      return outcome;
    }

    const view: PatientView = {
      id,
      enc: score.encounterId,
      unit: unit ?? state?.view.unit ?? null,
      band: p.band,
      bs: p.bandSource ?? null,
      br: p.bandReason ?? null,
      p: probability,
      n2: p.news2,
      n2b: p.news2Band,
      mode: p.mode,
      model: p.model,
      t,
      scoredAt: Date.parse(p.scoredAt),
      at: receivedAt,
      latencyMs: p.latencyMs,
      v: vitals,
      top: p.topFeatures.slice(0, this.options.topFeatures ?? 5),
      alert: state?.view.alert ?? null,
    };
    if (state && state.scoreId !== p.scoreId && BAND_RANK[p.band] > BAND_RANK[state.view.band]) {
      const alert: BandAlert = { patientId: id, unit: view.unit, from: state.view.band, to: p.band, t, at: receivedAt };
      view.alert = alert;
      this.keepAlert(alert);
    }

    if (!state) {
      state = { view, scoreId: p.scoreId, history: [], scores: [], lastSeen: receivedAt };
      this.evictOverCap();
    }
    state.view = view;
    state.scoreId = p.scoreId;
    insertByTime(state.scores, record, (r) => r.t, this.options.historyPoints);
    const reset = this.insertPoint(state, point);
    this.touch(id, state, receivedAt);
    this.mark(id, point, reset);
    return outcome;
  }

  /** Evicts patients idle past the TTL and expires alerts. Returns how many patients left. */
  sweep(now = this.now()): number {
    let evicted = 0;
    const cutoff = now - this.options.patientTtlMs;
    // Map order is least recently seen first (touch re-inserts), so stop at the first fresh one.
    for (const [id, state] of this.patients) {
      if (state.lastSeen >= cutoff) break;
      this.remove(id);
      evicted++;
    }
    const alertCutoff = now - this.options.alertTtlMs;
    while (this.alerts.length > 0 && this.alerts[0]!.at < alertCutoff) this.expireAlert(this.alerts.shift()!);
    return evicted;
  }

  /** The changes since the last drain, or null when nothing changed. */
  drain(sparkPoints: number): WardDelta | null {
    if (this.pending.size === 0 && this.removed.size === 0 && this.newAlerts.length === 0 && !this.modelsChanged) return null;
    const upserts: PatientWire[] = [];
    for (const [id, change] of this.pending) {
      const state = this.patients.get(id);
      if (!state) continue;
      if (change.reset || change.added.length > sparkPoints) upserts.push({ ...state.view, hist: state.history.slice(-sparkPoints) });
      else upserts.push({ ...state.view, add: change.added });
    }
    const delta: WardDelta = { upserts, removed: [...this.removed], alerts: this.newAlerts };
    if (this.modelsChanged) delta.models = [...this.models.values()];
    this.pending.clear();
    this.removed.clear();
    this.newAlerts = [];
    this.modelsChanged = false;
    return delta;
  }

  snapshot(sparkPoints: number): WardSnapshot {
    const patients = [...this.patients.values()].map((s) => ({ ...s.view, hist: s.history.slice(-sparkPoints) }));
    return { generatedAt: this.now(), patients, alerts: [...this.alerts], models: [...this.models.values()] };
  }

  patient(id: string): (PatientView & { hist: Point[] }) | undefined {
    const state = this.patients.get(id);
    return state ? { ...state.view, hist: [...state.history] } : undefined;
  }

  /** The recent scores of a patient, oldest first (none when the ward does not know it). */
  scores(id: string): readonly ScoreRecord[] {
    return this.patients.get(id)?.scores ?? [];
  }

  /** Adds to the ring of alerts (and of those not yet pushed), dropping the oldest past the cap. */
  private keepAlert(alert: BandAlert): void {
    const max = this.options.maxAlerts ?? 500;
    this.alerts.push(alert);
    if (this.alerts.length > max) for (const expired of this.alerts.splice(0, this.alerts.length - max)) this.expireAlert(expired);
    this.newAlerts.push(alert);
    if (this.newAlerts.length > max) this.newAlerts.splice(0, this.newAlerts.length - max);
  }

  /** An alert that left (its time is up, or the ring was full) no longer flags its patient. */
  private expireAlert(expired: BandAlert): void {
    const state = this.patients.get(expired.patientId);
    if (state && state.view.alert === expired) {
      state.view = { ...state.view, alert: null };
      if (!this.pending.has(expired.patientId)) this.pending.set(expired.patientId, { added: [], reset: false });
    }
  }

  private touch(id: string, state: PatientState, receivedAt: number): void {
    state.lastSeen = Math.max(state.lastSeen, receivedAt);
    this.patients.delete(id);
    this.patients.set(id, state);
    this.removed.delete(id);
  }

  private mark(id: string, point: Point, reset: boolean): void {
    let change = this.pending.get(id);
    if (!change) {
      change = { added: [], reset: false };
      this.pending.set(id, change);
    }
    if (reset) change.reset = true;
    else change.added.push(point);
  }

  /** Keeps the history sorted by event time, bounded, one point per event time. True unless it was a plain append. */
  private insertPoint(state: PatientState, point: Point): boolean {
    return insertByTime(state.history, point, (p) => p[0], this.options.historyPoints);
  }

  private remove(id: string): void {
    this.patients.delete(id);
    this.pending.delete(id);
    this.removed.add(id);
  }

  private evictOverCap(): void {
    while (this.patients.size >= this.options.maxPatients) {
      const oldest = this.patients.keys().next();
      if (oldest.done) return;
      this.remove(oldest.value);
    }
  }

  private noteModel(mode: 'model' | 'news2_only', model: { name: string; version: string } | null, scoredAt: number): void {
    // As a JSON array: no name or version can make two models one key.
    const key = JSON.stringify([mode, model?.name ?? null, model?.version ?? null]);
    const seen = this.models.get(key);
    if (seen) {
      seen.scores++;
      seen.lastScoredAt = Math.max(seen.lastScoredAt, scoredAt);
      return;
    }
    // Every page gets the whole list when it changes: a stream of scores each naming another
    // version must not grow it (and each push) without end. The least recently scored goes.
    if (this.models.size >= MAX_MODELS_LISTED) {
      let stalest: [string, ModelSeen] | null = null;
      for (const entry of this.models) if (!stalest || entry[1].lastScoredAt < stalest[1].lastScoredAt) stalest = entry;
      if (stalest) this.models.delete(stalest[0]);
    }
    this.models.set(key, { mode, name: model?.name ?? null, version: model?.version ?? null, lastScoredAt: scoredAt, scores: 1 });
    this.modelsChanged = true;
  }
}

/**
 * Inserts into a list sorted by time, at most `max` long (the oldest leave first), one item
 * per time (a second one replaces the first). True unless it was a plain append.
 */
function insertByTime<T>(list: T[], item: T, timeOf: (x: T) => number, max: number): boolean {
  const t = timeOf(item);
  const last = list[list.length - 1];
  if (last === undefined || timeOf(last) < t) {
    list.push(item);
    if (list.length > max) list.splice(0, list.length - max);
    return false;
  }
  let i = list.length - 1;
  while (i >= 0 && timeOf(list[i]!) > t) i--;
  if (i >= 0 && timeOf(list[i]!) === t) list[i] = item;
  else if (list.length < max || i >= 0) {
    list.splice(i + 1, 0, item);
    if (list.length > max) list.shift();
  }
  return true;
}
