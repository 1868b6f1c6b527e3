// Realistic vectors for the wire bench without @ehr/cohort (which depends on this package):
// a seeded ward of patients with hourly vitals, labs twice a day and a note now and then,
// run through the engine the feature service uses.
import { DEFAULT_ENGINE_OPTIONS, processEvent, type FeatureDraft, type PatientState } from '../src/index.js';
import { benchWardEvents } from '../src/testing.js';

export function wardDrafts(patients: number, hours: number, seed = 7): FeatureDraft[] {
  const events = benchWardEvents(patients, hours, seed);
  const store = new Map<string, PatientState>();
  const drafts: FeatureDraft[] = [];
  for (const e of events) {
    const o = processEvent(store, e, DEFAULT_ENGINE_OPTIONS);
    if (o.kind === 'featurized' && o.vector) drafts.push(o.vector);
  }
  return drafts;
}
