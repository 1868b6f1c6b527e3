// What a model saw: its patients (as short hashes, so an evaluation can leave them out),
// and more fields added to a sealed artifact.
import { createHash } from 'node:crypto';
import { sealArtifact } from './encoding.js';
import type { ModelArtifact, SeenPatients } from './schema.js';

/** The compact, sorted hash list of the patients a model saw. */
export function seenPatientsOf(ids: Iterable<string>): SeenPatients {
  const hashes = [...new Set([...ids].map(patientHash8))].sort();
  return { encoding: 'sha256-8-sorted', count: hashes.length, ids: hashes.join('') };
}

export const patientHash8 = (id: string) => createHash('sha256').update(id).digest('hex').slice(0, 8);

/** True when the artifact's seen-patient list holds this id (false when it has no list). */
export function sawPatient(seen: SeenPatients | undefined, id: string): boolean {
  if (!seen) return false;
  const h = patientHash8(id);
  let lo = 0;
  let hi = seen.count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = seen.ids.slice(mid * 8, mid * 8 + 8);
    if (v < h) lo = mid + 1;
    else hi = mid;
  }
  return lo < seen.count && seen.ids.slice(lo * 8, lo * 8 + 8) === h;
}

/** The same artifact with more fields (provenance, label, alarm, …), resealed: new content hash. */
export function withArtifactFields(artifact: ModelArtifact, fields: Partial<Pick<ModelArtifact, 'provenance' | 'label' | 'alarm' | 'bandBudget' | 'seenPatients' | 'name'>>): ModelArtifact {
  const { createdAt, version: _v, contentHash: _h, ...content } = artifact;
  return sealArtifact({ ...content, ...fields }, createdAt);
}
