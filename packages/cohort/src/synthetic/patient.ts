// One synthetic stay as a stream of raw events, in delivery order: admission, vitals
// about hourly (more often as the patient worsens), temperature and GCS 4-hourly, labs
// once or twice a day (lactate and gases mostly when sick), notes per shift and ward
// round, then the discharge, the death or the transfer to ICU.
import {
  deterministicId,
  LAB_UNITS,
  VITAL_UNITS,
  type CoreLabKind as LabKind,
  type Random,
  type RawEvent,
  type VitalKind,
} from '@ehr/features';
import { LAB_LOINC } from '../codes.js';
import { DAY, HOUR, iso, MINUTE } from '../time.js';
import type { CohortEvent } from '../types.js';
import { applyArtefact, type ArtefactRates } from './artefacts.js';
import { nursingNote, progressNote } from './notes.js';
import { Physiology, round } from './physiology.js';
import { clamp, uniform, type PatientPlan } from './plan.js';

export interface PatientRandom {
  physiology: Random;
  measurement: Random;
  artefacts: Random;
  notes: Random;
}

export interface SimulationOptions {
  /** Namespace of the event ids (the seed, and for a live ward its start time). */
  idNamespace: string;
  artefacts: ArtefactRates;
  /** No event at or after this time (epoch ms); the stay may go on beyond. */
  dataEndMs: number;
  /** Events that happened before this time are not emitted, except the admission (a ward already running). */
  emitFromMs?: number;
}

/** A delivered event with its order keys. */
export interface SimEvent extends CohortEvent {
  arrivalMs: number;
  seq: number;
}

const CORE_PANEL: readonly LabKind[] = ['wbc', 'hemoglobin', 'platelets', 'creatinine', 'bun', 'sodium', 'potassium', 'bicarbonate', 'glucose'];
const GAS_PANEL: readonly LabKind[] = ['lactate', 'bicarbonate', 'potassium', 'glucose'];

/** Next time of day (UTC hour, fractional) strictly after t. */
function nextClock(t: number, hour: number): number {
  const day = Math.floor(t / DAY) * DAY;
  const at = day + hour * HOUR;
  return at > t ? at : at + DAY;
}

export function* simulatePatient(plan: PatientPlan, admitMs: number, rnd: PatientRandom, options: SimulationOptions): Generator<SimEvent> {
  const { demographics: demo, course } = plan;
  const phys = new Physiology(rnd.physiology, demo, course, 0);
  const m = rnd.measurement;
  const hOf = (t: number) => (t - admitMs) / HOUR;
  const endMs = Math.round((admitMs + course.endH * HOUR) / 1000) * 1000;
  const stopMs = Math.min(endMs, options.dataEndMs);
  const emitFrom = options.emitFromMs ?? -Infinity;

  let seq = 0;
  let order = 0;
  const pending: SimEvent[] = [];
  const envelope = (t: number) => {
    const at = iso(t);
    return {
      schemaVersion: 1 as const,
      eventId: deterministicId('synthetic', options.idNamespace, plan.patientId, seq++),
      patientId: plan.patientId,
      encounterId: plan.encounterId,
      occurredAt: at,
      producedAt: at,
      source: 'synthetic' as const,
    };
  };
  const push = (t: number, event: RawEvent, allowArtefact = true) => {
    if (t < emitFrom && event.schema !== 'admission') return;
    const decision = allowArtefact ? applyArtefact(rnd.artefacts, options.artefacts, event) : { artefact: null, event, delayMs: 0 };
    const arrival = t + decision.delayMs;
    const availableAt = decision.delayMs > 0 ? iso(arrival) : event.occurredAt;
    const delivered = decision.delayMs > 0 ? ({ ...decision.event, producedAt: availableAt } as RawEvent) : decision.event;
    pending.push({ event: delivered, availableAt, artefact: decision.artefact === 'duplicate' ? null : decision.artefact, arrivalMs: arrival, seq: order++ });
    if (decision.artefact === 'duplicate') pending.push({ event: delivered, availableAt, artefact: 'duplicate', arrivalMs: arrival, seq: order++ });
  };
  const vital = (t: number, kind: VitalKind, value: number, unit = VITAL_UNITS[kind]) =>
    push(t, { schema: 'vital_sign', ...envelope(t), payload: { kind, value, unit } });
  const lab = (t: number, kind: LabKind) =>
    push(t, { schema: 'lab_result', ...envelope(t), payload: { kind, value: phys.lab(kind, hOf(t)), unit: LAB_UNITS[kind], loinc: LAB_LOINC[kind] } });
  function* flush(upTo: number): Generator<SimEvent> {
    if (pending.length === 0) return;
    pending.sort((a, b) => a.arrivalMs - b.arrivalMs || a.seq - b.seq);
    let n = 0;
    while (n < pending.length && pending[n]!.arrivalMs <= upTo) n++;
    yield* pending.splice(0, n);
  }

  push(
    admitMs,
    {
      schema: 'admission',
      ...envelope(admitMs),
      payload: { admissionType: demo.admissionType, unit: demo.unit, department: demo.department, gender: demo.gender, age: demo.age, spo2Scale: demo.spo2Scale },
    },
    false,
  );

  const jitter = (minutes: number, spread: number) => Math.round(minutes * uniform(m, 1 - spread, 1 + spread) * MINUTE);
  const next = {
    vitals: admitMs + jitter(15, 0.8),
    neuro: admitMs + jitter(30, 0.5),
    labs: admitMs + jitter(75, 0.6),
    gas: Infinity,
    nursing: Math.max(admitMs + 20 * MINUTE, nextClock(admitMs, 7.5) + jitter(45, 1) - 45 * MINUTE),
    progress: nextClock(admitMs + 4 * HOUR, 10) + jitter(120, 1) - 120 * MINUTE,
  };
  let firstPanel = true;
  let lastT = admitMs;

  const noteContext = (t: number) => {
    const h = hOf(t);
    const lagged = phys.severity(h - uniform(rnd.notes, 1, 4));
    const v = phys.vitals(h, (t / HOUR) % 24);
    return {
      course: course.course,
      perceived: Math.max(0, lagged + rnd.notes.normal(0, 0.08)),
      onOxygen: v.oxygen > 0,
      oxygenLitres: Math.round(1 + 14 * v.oxygen),
      hr: v.hr,
      temp: v.temp,
      spo2: v.spo2,
      treated: phys.treatment(h) > 0.3,
    };
  };

  for (;;) {
    let stream: keyof typeof next = 'vitals';
    for (const k of Object.keys(next) as (keyof typeof next)[]) if (next[k] < next[stream]) stream = k;
    // Whole seconds, never going back in time (schedules are jittered independently).
    const t = Math.max(lastT, Math.round(next[stream] / 1000) * 1000);
    lastT = t;
    if (t >= stopMs) break;
    const h = hOf(t);
    const sev = phys.severity(h);
    switch (stream) {
      case 'vitals': {
        if (!m.chance(sev < 0.4 ? 0.04 : 0.01)) {
          const v = phys.vitals(h, (t / HOUR) % 24);
          const noisy = (x: number, sd: number) => x + m.normal(0, sd);
          if (!m.chance(0.02)) vital(t, 'heart_rate', clamp(Math.round(noisy(v.hr, 1.5)), 25, 220));
          if (!m.chance(0.04)) vital(t, 'respiratory_rate', clamp(Math.round(noisy(v.rr, 0.8)), 5, 60));
          if (!m.chance(0.03)) vital(t, 'spo2', clamp(Math.round(noisy(v.spo2, 0.7)), 55, 100));
          if (!m.chance(0.04)) {
            const sbp = clamp(Math.round(noisy(v.sbp, 4)), 50, 240);
            const dbp = clamp(Math.round(noisy(v.dbp, 3)), 25, sbp - 10);
            vital(t, 'systolic_bp', sbp);
            vital(t, 'diastolic_bp', dbp);
            if (!m.chance(0.1)) vital(t, 'mean_bp', Math.round((sbp + 2 * dbp) / 3));
          }
          if (!m.chance(0.05)) vital(t, 'supplemental_o2', v.oxygen > 0 ? 1 : 0);
          if (v.oxygen > 0) {
            const flow = Math.round(1 + 14 * v.oxygen);
            if (!m.chance(0.1)) vital(t, 'o2_flow', flow);
            if (!m.chance(0.15)) vital(t, 'fio2', round(flow <= 6 ? 0.21 + 0.03 * flow : Math.min(0.95, 0.4 + 0.045 * (flow - 6)), 2));
          }
        }
        next.vitals = t + (sev < 0.4 ? jitter(60, 0.15) : sev < 0.75 ? jitter(30, 0.2) : jitter(15, 0.2));
        break;
      }
      case 'neuro': {
        const v = phys.vitals(h, (t / HOUR) % 24);
        if (!m.chance(0.05)) {
          const celsius = v.temp + m.normal(0, 0.08);
          if (demo.chartsFahrenheit) vital(t, 'temperature', round((celsius * 9) / 5 + 32, 1), '[degF]');
          else vital(t, 'temperature', round(celsius, 1));
        }
        if (!m.chance(0.05)) vital(t, 'gcs', v.gcs);
        if (!m.chance(0.05)) {
          const baseline = demo.chronicConfusion ? 14 : 15;
          vital(t, 'avpu', v.gcs >= baseline ? 0 : v.gcs >= 13 ? 1 : v.gcs >= 9 ? 2 : v.gcs >= 6 ? 3 : 4);
        }
        if (sev >= 0.6 && rnd.notes.chance(0.4)) {
          push(t, { schema: 'clinical_note', ...envelope(t), payload: { category: 'nursing', text: nursingNote(rnd.notes, noteContext(t)), author: 'RN' } });
        }
        next.neuro = t + (sev < 0.4 ? jitter(240, 0.12) : jitter(120, 0.15));
        break;
      }
      case 'labs': {
        const sick = sev >= 0.3;
        const evening = !firstPanel && new Date(t).getUTCHours() >= 12;
        if (firstPanel || !evening || m.chance(sick ? 0.85 : 0.12)) {
          for (const kind of CORE_PANEL) if (!m.chance(0.03)) lab(t, kind);
          if (m.chance(firstPanel ? 0.4 : sick || course.course === 'sepsis' && h > (course.onsetH ?? Infinity) ? 0.75 : 0.25)) lab(t, 'bilirubin');
          if (m.chance(firstPanel ? 0.3 : sick ? 0.85 : 0.08)) lab(t, 'lactate');
        }
        firstPanel = false;
        // Drawn around 06:00 and 18:00 (±1 h), never less than an hour after the last draw.
        next.labs = Math.min(nextClock(t + 2 * HOUR, 6), nextClock(t + 2 * HOUR, 18)) + jitter(60, 1) - 60 * MINUTE;
        break;
      }
      case 'gas': {
        if (sev >= 0.5) {
          for (const kind of GAS_PANEL) if (!m.chance(0.1)) lab(t, kind);
          next.gas = t + Math.round(uniform(m, 2, 4) * HOUR);
        } else next.gas = Infinity;
        break;
      }
      case 'nursing': {
        push(t, { schema: 'clinical_note', ...envelope(t), payload: { category: 'nursing', text: nursingNote(rnd.notes, noteContext(t)), author: 'RN' } });
        next.nursing = nextClock(t + HOUR, new Date(t).getUTCHours() < 12 ? 19.5 : 7.5) + jitter(45, 1) - 45 * MINUTE;
        break;
      }
      case 'progress': {
        push(t, { schema: 'clinical_note', ...envelope(t), payload: { category: 'progress', text: progressNote(rnd.notes, noteContext(t), Math.floor(h / 24) + 1), author: 'MD' } });
        next.progress = nextClock(t + 4 * HOUR, 10) + jitter(120, 1) - 120 * MINUTE;
        break;
      }
    }
    if (next.gas === Infinity && sev >= 0.5) next.gas = t + Math.round(uniform(m, 0.5, 2) * HOUR);
    yield* flush(t);
  }

  if (endMs < options.dataEndMs) {
    const base = envelope(endMs);
    if (course.outcome === 'icu_transfer') {
      push(endMs, { schema: 'transfer', ...base, payload: { fromUnit: demo.unit, toUnit: 'ICU', icu: true } }, false);
    } else {
      const outcome = course.outcome === 'died' ? 'died' : demo.dischargeTo;
      push(endMs, { schema: 'discharge', ...base, payload: { outcome } }, false);
    }
  }
  yield* flush(Infinity);
}
