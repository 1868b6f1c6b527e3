// Cohorts: a fixed set of patients over a time window (files for training), and a ward
// that never closes (continuous admissions and discharges, for long-running demos). Both
// merge per-patient streams by delivery time, so the output is in stream order.
import { createRandom, type Random } from '@ehr/features';
import { MinHeap } from '../merge.js';
import { DAY, HOUR, iso, toMs } from '../time.js';
import type { CohortEvent, CohortMeta, PatientRecord } from '../types.js';
import { artefactRates, type ArtefactRates } from './artefacts.js';
import { simulatePatient, type PatientRandom, type SimEvent } from './patient.js';
import { DEFAULT_COURSE_MIX, patientRecord, planPatient, uniform, type CourseMix, type PatientPlan } from './plan.js';

export const GENERATOR_VERSION = 'ehr-synthetic/1';
export const DEFAULT_START = '2026-01-05T00:00:00Z';

export interface CohortOptions {
  seed: number;
  patients: number;
  hours: number;
  /** Start of the window (default 2026-01-05T00:00:00Z, fixed so a seed always gives the same bytes). */
  start?: string;
  /** Overall artefact rate (default 0.01); see `artefactRates`. */
  artefactRate?: number;
  artefacts?: Partial<ArtefactRates>;
  mix?: Partial<CourseMix>;
  /** Label horizon written to cohort.json (labels.csv uses it). */
  horizonHours?: number;
}

export interface Cohort {
  meta: CohortMeta;
  patients: PatientRecord[];
  /** In delivery order (event time, except deliberately late or out-of-order events). */
  events: CohortEvent[];
}

/** A seed per patient that depends only on the cohort seed and the patient's number. */
function patientRandom(seed: number, namespace: string, index: number): { plan: Random; rnd: PatientRandom; admit: Random } {
  const root = createRandom(seed).fork(`${namespace}:${index}`);
  return {
    plan: root.fork('plan'),
    admit: root.fork('admit'),
    rnd: { physiology: root.fork('physiology'), measurement: root.fork('measurement'), artefacts: root.fork('artefacts'), notes: root.fork('notes') },
  };
}

const byDelivery = (a: { head: SimEvent; index: number }, b: { head: SimEvent; index: number }) =>
  a.head.arrivalMs < b.head.arrivalMs || (a.head.arrivalMs === b.head.arrivalMs && (a.index < b.index || (a.index === b.index && a.head.seq < b.head.seq)));

interface Cursor {
  index: number;
  head: SimEvent;
  rest: Iterator<SimEvent>;
}

function advance(heap: MinHeap<Cursor>, index: number, it: Iterator<SimEvent>): void {
  const r = it.next();
  if (!r.done) heap.push({ index, head: r.value, rest: it });
}

export function patientId(prefix: string, index: number): string {
  return `${prefix}-${String(index + 1).padStart(5, '0')}`;
}

/** Patients admitted over the first half of the window, followed until they leave or the window ends. */
export function* cohortStream(options: CohortOptions): Generator<CohortEvent, void, undefined> {
  const { plans, admits, sims } = setUp(options);
  const heap = new MinHeap<Cursor>(byDelivery);
  plans.forEach((plan, i) => advance(heap, i, simulatePatient(plan, admits[i]!, sims[i]!.rnd, sims[i]!.options)));
  while (heap.size > 0) {
    const top = heap.pop()!;
    yield { event: top.head.event, availableAt: top.head.availableAt, artefact: top.head.artefact };
    advance(heap, top.index, top.rest);
  }
}

function setUp(options: CohortOptions) {
  if (!Number.isInteger(options.seed) || options.seed < 0) throw new Error(`seed must be a non-negative integer, got ${options.seed}`);
  if (!Number.isInteger(options.patients) || options.patients < 1) throw new Error(`patients must be a positive integer, got ${options.patients}`);
  if (!(options.hours > 0)) throw new Error(`hours must be positive, got ${options.hours}`);
  const startMs = toMs(options.start ?? DEFAULT_START, 'start');
  const endMs = startMs + options.hours * HOUR;
  const namespace = `S${options.seed}`;
  const rates = artefactRates(options.artefactRate ?? 0.01, options.artefacts);
  const mix = { ...DEFAULT_COURSE_MIX, ...options.mix };
  const plans: PatientPlan[] = [];
  const admits: number[] = [];
  const sims: { rnd: PatientRandom; options: Parameters<typeof simulatePatient>[3] }[] = [];
  for (let i = 0; i < options.patients; i++) {
    const r = patientRandom(options.seed, 'cohort', i);
    plans.push(planPatient(r.plan, i, patientId(namespace, i), mix));
    admits.push(Math.round((startMs + uniform(r.admit, 0, Math.max(1, options.hours / 2)) * HOUR) / 60_000) * 60_000);
    sims.push({ rnd: r.rnd, options: { idNamespace: namespace, artefacts: rates, dataEndMs: endMs } });
  }
  return { plans, admits, sims, startMs, endMs, rates, namespace };
}

export function cohortPatients(options: CohortOptions): PatientRecord[] {
  const { plans, admits } = setUp(options);
  return plans.map((p, i) => patientRecord(p, admits[i]!));
}

export function cohortMeta(options: CohortOptions): CohortMeta {
  const startMs = toMs(options.start ?? DEFAULT_START, 'start');
  return {
    format: 'ehr-cohort',
    formatVersion: 1,
    source: 'synthetic',
    seed: options.seed,
    patients: options.patients,
    start: iso(startMs),
    end: iso(startMs + options.hours * HOUR),
    horizonHours: options.horizonHours ?? 12,
    labelStepHours: 1,
    artefactRate: options.artefactRate ?? 0.01,
    generator: GENERATOR_VERSION,
  };
}

/** The whole cohort in memory: patients (with ground truth) and every event in stream order. */
export function generateCohort(options: CohortOptions): Cohort {
  return { meta: cohortMeta(options), patients: cohortPatients(options), events: [...cohortStream(options)] };
}

export interface WardOptions {
  seed: number;
  /** Beds kept occupied (default 300). */
  census?: number;
  /** Simulated start (default now); patients already on the ward were admitted up to two days before. */
  start?: number;
  artefactRate?: number;
  mix?: Partial<CourseMix>;
  /** Stop after this many simulated hours (default: never). */
  hours?: number;
  /** Called when a patient is admitted (ground truth for whoever evaluates the demo; never streamed). */
  onAdmit?: (patient: PatientRecord) => void;
}

/**
 * A ward that never closes: `census` beds, each new admission arriving about an hour
 * after a departure. Infinite unless `hours` is set. Ids carry the seed and the start
 * time, so two runs of the demo never collide in a warehouse while a run reproduces.
 */
export function* wardStream(options: WardOptions): Generator<CohortEvent, void, undefined> {
  const census = options.census ?? 300;
  const startMs = Math.floor((options.start ?? Date.now()) / 1000) * 1000;
  const endMs = options.hours === undefined ? Infinity : startMs + options.hours * HOUR;
  const namespace = `W${options.seed}-${startMs.toString(36)}`;
  const rates = artefactRates(options.artefactRate ?? 0.01);
  const mix = { ...DEFAULT_COURSE_MIX, ...options.mix };
  const bedRng = createRandom(options.seed).fork(`ward:${startMs}`);
  const heap = new MinHeap<Cursor>(byDelivery);
  // Admissions waiting for their time, as (time, patient number).
  const arrivals = new MinHeap<{ at: number; index: number }>((a, b) => a.at < b.at || (a.at === b.at && a.index < b.index));
  let admitted = 0;

  const admit = (at: number, alreadyThere: boolean) => {
    const index = admitted++;
    const r = patientRandom(options.seed, namespace, index);
    const plan = planPatient(r.plan, index, patientId(namespace, index), mix);
    // A patient already on the ward when the demo starts is part-way through the stay.
    const admitMs = alreadyThere ? at - Math.round(uniform(r.admit, 0, Math.min(2 * DAY, 0.8 * plan.course.endH * HOUR)) / 60_000) * 60_000 : at;
    options.onAdmit?.(patientRecord(plan, admitMs));
    const leaves = admitMs + plan.course.endH * HOUR;
    arrivals.push({ at: leaves + Math.round(uniform(bedRng, 0.2, 2) * HOUR), index: -1 });
    advance(heap, index, simulatePatient(plan, admitMs, r.rnd, { idNamespace: namespace, artefacts: rates, dataEndMs: endMs, emitFromMs: startMs }));
  };
  for (let bed = 0; bed < census; bed++) admit(startMs, true);

  for (;;) {
    const nextArrival = arrivals.peek();
    const top = heap.peek();
    if (nextArrival && (!top || nextArrival.at <= top.head.arrivalMs)) {
      arrivals.pop();
      if (nextArrival.at >= endMs) {
        if (!top) return;
        continue;
      }
      admit(nextArrival.at, false);
      continue;
    }
    if (!top) return;
    heap.pop();
    yield { event: top.head.event, availableAt: top.head.availableAt, artefact: top.head.artefact };
    advance(heap, top.index, top.rest);
  }
}
