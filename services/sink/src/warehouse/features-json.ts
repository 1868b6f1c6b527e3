// A score's `features` column from the frame's values, without the 211-key record: the same
// text JSON.stringify gives of the record decodeSeverityScore builds (names in catalogue
// order, numbers as JavaScript prints them, null for a missing value), which warehouse users
// read as it is. test/features-json.test.ts holds the two together.
import { FEATURE_NAMES } from '@ehr/features';

/** `{"name":` then `,"name":`: each name quoted and escaped once, as JSON.stringify would. */
const PREFIXES = FEATURE_NAMES.map((name, i) => `${i === 0 ? '{' : ','}${JSON.stringify(name)}:`);

/** Catalogue-ordered values (NaN and ±Infinity for null) → the JSON text of their record. */
export function featuresJson(values: Float64Array): string {
  if (values.length !== PREFIXES.length) throw new Error(`${values.length} values for a catalogue of ${PREFIXES.length} features`);
  if (values.length === 0) return '{}';
  const parts = new Array<string>(values.length + 1);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // JSON.stringify prints a finite number as String() does (-0 as 0), anything else as null.
    parts[i] = PREFIXES[i]! + (Number.isFinite(v) ? String(v) : 'null');
  }
  parts[values.length] = '}';
  // One flat string: `+=` would leave a rope of 400-odd pieces alive as long as the batch
  // (bench/rows.ts: more GC than JSON.stringify's flat text, not less).
  return parts.join('');
}
