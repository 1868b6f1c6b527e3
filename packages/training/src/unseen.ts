// The rows an evaluation may report on: those of patients the model never saw. An artifact
// lists the patients it was trained or tuned on, or that a choice behind it was made on
// (`seenPatients`: a subset model lists its full split's training and validation patients);
// evaluating it on a source that holds some of them would report figures partly learnt from
// the answers.
import { sawPatient, type SeverityModel } from '@ehr/model';

export interface UnseenRows {
  /** Row indices of patients the model did not see, in row order. */
  rows: number[];
  /** Patients left out (their index into the data's `patients`). */
  excluded: ReadonlySet<number>;
  /** False for an artifact without a seen-patient list (trained before it was recorded). */
  known: boolean;
}

export function unseenRows(model: SeverityModel, data: { rows: number; patientOf: ArrayLike<number>; patients: readonly string[] }, source: string): UnseenRows {
  const seen = model.artifact.seenPatients;
  const verdict = new Map<number, boolean>();
  const rows: number[] = [];
  const excluded = new Set<number>();
  for (let i = 0; i < data.rows; i++) {
    const p = data.patientOf[i]!;
    let saw = verdict.get(p);
    if (saw === undefined) verdict.set(p, (saw = sawPatient(seen, data.patients[p]!)));
    if (saw) excluded.add(p);
    else rows.push(i);
  }
  if (data.rows > 0 && rows.length === 0) throw new Error(`every patient in ${source} was used to train or tune model ${model.version}: nothing left to evaluate`);
  return { rows, excluded, known: seen !== undefined };
}

/** The sentence a report gives about what was left out. */
export function unseenNote(unseen: UnseenRows): string {
  if (!unseen.known) return 'The artifact does not list the patients it was trained on (it predates that record): the data may hold some of them, so these figures may be optimistic.';
  return unseen.excluded.size > 0 ? `${unseen.excluded.size} patients the model was trained or tuned on, or that a choice behind it was made on, were left out.` : 'None of these patients was used to train or tune the model, nor was any choice behind it made on them.';
}
