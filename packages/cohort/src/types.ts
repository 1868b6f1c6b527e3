import type { RawEvent } from '@ehr/features';

/** The latent course of a synthetic patient. */
export const COURSES = ['stable', 'sepsis', 'respiratory', 'bleeding'] as const;
export type Course = (typeof COURSES)[number];

/** How a stay ended (or `in_hospital` when it had not ended by the end of the data). */
export const OUTCOMES = ['discharged', 'died', 'icu_transfer', 'in_hospital'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Deliberate defects, emitted for the feature service to clean or dead-letter. */
export const ARTEFACTS = ['impossible_value', 'fahrenheit_as_celsius', 'duplicate', 'late', 'out_of_order'] as const;
export type Artefact = (typeof ARTEFACTS)[number];

/** One patient of a cohort: who, where, and the ground truth of the stay (never streamed). */
export interface PatientRecord {
  patientId: string;
  encounterId: string;
  gender: 'F' | 'M';
  age: number;
  admissionType: string;
  unit: string;
  department: string;
  spo2Scale: 1 | 2;
  admitTime: string;
  course: Course;
  /** When the latent deterioration began (null for stable patients). */
  onsetTime: string | null;
  /** The course's deterioration event (the point a rapid response is due); null if none. */
  eventTime: string | null;
  outcome: Outcome;
  /** When the stay ended (discharge, death, ICU transfer); null while in hospital. */
  outcomeTime: string | null;
}

/** A raw event with what only a file can carry: when the source delivered it, and whether it is a deliberate artefact. */
export interface CohortEvent {
  event: RawEvent;
  /** Delivery time: the event time, except for late and out-of-order artefacts. Streams are ordered by it. */
  availableAt: string;
  artefact: Artefact | null;
}

/** How a cohort was made (cohort.json). */
export interface CohortMeta {
  format: 'ehr-cohort';
  formatVersion: 1;
  source: 'synthetic' | 'csv' | 'meds';
  seed: number | null;
  patients: number;
  start: string;
  end: string;
  horizonHours: number;
  labelStepHours: number;
  artefactRate: number;
  generator?: string;
}

export interface Label {
  patientId: string;
  encounterId: string;
  time: string;
  label: 0 | 1;
  /** Hours from `time` to the next severe outcome, if the stay has one after `time`. */
  hoursToEvent: number | null;
  eventType: SevereOutcomeType | null;
}

export const SEVERE_OUTCOME_TYPES = ['death', 'icu_transfer', 'deterioration'] as const;
export type SevereOutcomeType = (typeof SEVERE_OUTCOME_TYPES)[number];
