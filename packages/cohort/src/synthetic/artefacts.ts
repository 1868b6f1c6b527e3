import type { Random, RawEvent } from '@ehr/features';
import type { Artefact } from '../types.js';

export interface ArtefactRates {
  /** Vitals outside what a body can do (HR 400, SpO2 130): schema-valid, physiologically impossible. */
  impossible_value: number;
  /** Share of temperatures charted in °C that carry a °F number (e.g. 99.1 `Cel`). */
  fahrenheit_as_celsius: number;
  /** The same event (same id, same bytes) delivered twice. */
  duplicate: number;
  /** Delivered 2–8 h after it happened. */
  late: number;
  /** Delivered 10–90 min after it happened, usually after events that happened later. */
  out_of_order: number;
}

/** Per-type rates from one knob: each of the four generic artefacts gets a quarter, and a temperature is mis-charted 5× as often. */
export function artefactRates(rate: number, overrides: Partial<ArtefactRates> = {}): ArtefactRates {
  if (!(rate >= 0 && rate <= 0.2)) throw new Error(`artefact rate must be within 0–0.2, got ${rate}`);
  return { impossible_value: rate / 4, fahrenheit_as_celsius: Math.min(1, rate * 5), duplicate: rate / 4, late: rate / 4, out_of_order: rate / 4, ...overrides };
}

const IMPOSSIBLE: Partial<Record<string, readonly [number, number]>> = {
  heart_rate: [350, 900],
  respiratory_rate: [80, 200],
  spo2: [101, 150],
  systolic_bp: [450, 999],
  diastolic_bp: [350, 600],
  mean_bp: [350, 600],
  temperature: [52, 65],
};

export interface ArtefactDecision {
  artefact: Artefact | null;
  event: RawEvent;
  /** Extra delivery delay in milliseconds. */
  delayMs: number;
}

/** At most one artefact per event, chosen with a single draw so rates add up exactly. */
export function applyArtefact(rng: Random, rates: ArtefactRates, event: RawEvent): ArtefactDecision {
  const candidates: [Artefact, number][] = [];
  if (event.schema === 'vital_sign') {
    if (IMPOSSIBLE[event.payload.kind]) candidates.push(['impossible_value', rates.impossible_value]);
    if (event.payload.kind === 'temperature' && event.payload.unit === 'Cel') candidates.push(['fahrenheit_as_celsius', rates.fahrenheit_as_celsius]);
  }
  if (event.schema !== 'admission') candidates.push(['duplicate', rates.duplicate], ['late', rates.late], ['out_of_order', rates.out_of_order]);
  let u = rng.next();
  // A second draw sizes the defect, so the choice above never depends on it.
  const v = rng.next();
  for (const [artefact, p] of candidates) {
    if (u >= p) {
      u -= p;
      continue;
    }
    switch (artefact) {
      case 'impossible_value': {
        const payload = event.payload as { kind: string; value: number };
        const [lo, hi] = IMPOSSIBLE[payload.kind]!;
        return { artefact, delayMs: 0, event: { ...event, payload: { ...event.payload, value: Math.round(lo + (hi - lo) * v) } } as RawEvent };
      }
      case 'fahrenheit_as_celsius': {
        const payload = event.payload as { value: number };
        return { artefact, delayMs: 0, event: { ...event, payload: { ...event.payload, value: Math.round((payload.value * 9) / 5 * 10 + 320) / 10 } } as RawEvent };
      }
      case 'late':
        return { artefact, event, delayMs: Math.round((2 + 6 * v) * 3600) * 1000 };
      case 'out_of_order':
        return { artefact, event, delayMs: Math.round((10 + 80 * v) * 60) * 1000 };
      case 'duplicate':
        return { artefact, event, delayMs: 0 };
    }
  }
  return { artefact: null, event, delayMs: 0 };
}
