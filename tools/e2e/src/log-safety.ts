// No patient identifier or secret in any log line: every line every service printed during
// a run is searched for every patient id and encounter id of the run and every secret it
// configured. A finding never repeats the needle: the report masks it.
import type { StackLogEntry } from '@ehr/deploy';

export interface Needle {
  kind: 'patient_id' | 'encounter_id' | 'secret';
  value: string;
}

export interface Leak {
  service: string;
  /** What the line carries, in the order found. */
  kinds: Needle['kind'][];
  /** The line with every needle replaced by `<kind>`. */
  masked: string;
}

/** Every line that contains a needle (each line reported once, with all its needles masked). */
export function findLeaks(lines: readonly Pick<StackLogEntry, 'service' | 'line'>[], needles: readonly Needle[]): Leak[] {
  const usable = needles.filter((n) => n.value.length >= 4);
  // Longest first, so an encounter id (which contains its patient id) is masked whole.
  usable.sort((a, b) => b.value.length - a.value.length);
  const leaks: Leak[] = [];
  for (const { service, line } of lines) {
    let masked = line;
    const kinds: Needle['kind'][] = [];
    for (const n of usable) {
      if (!masked.includes(n.value)) continue;
      if (!kinds.includes(n.kind)) kinds.push(n.kind);
      masked = masked.split(n.value).join(`<${n.kind}>`);
    }
    if (kinds.length > 0) leaks.push({ service, kinds, masked: masked.length > 400 ? `${masked.slice(0, 400)}…` : masked });
  }
  return leaks;
}

/** Patient and encounter ids as needles. */
export function idNeedles(patients: Iterable<{ patientId: string; encounterId: string | null }>): Needle[] {
  const needles = new Map<string, Needle>();
  for (const p of patients) {
    needles.set(p.patientId, { kind: 'patient_id', value: p.patientId });
    if (p.encounterId) needles.set(p.encounterId, { kind: 'encounter_id', value: p.encounterId });
  }
  return [...needles.values()];
}

export const secretNeedles = (secrets: readonly string[]): Needle[] => secrets.map((value) => ({ kind: 'secret', value }));
