// A score's `features` column from the frame's values, without the 211-key record: the same
// text JSON.stringify gives of the record decodeSeverityScore builds (names in catalogue
// order, numbers as JavaScript prints them, null for a missing value), which warehouse users
// read as it is. test/features-json.test.ts holds the two together.
import { FEATURE_NAMES } from '@ehr/features';

/** `{"name":` then `,"name":`: each name quoted and escaped once, as JSON.stringify would. */
const PREFIXES = FEATURE_NAMES.map((name, i) => `${i === 0 ? '{' : ','}${JSON.stringify(name)}:`);

/**
 * Prefixes and values in turn, then `}`; the value slots are overwritten by each call (one
 * call at a time: JavaScript is single-threaded and featuresJson never yields).
 */
const PARTS: string[] = [...PREFIXES.flatMap((prefix) => [prefix, 'null']), '}'];

/** Catalogue-ordered values (NaN and ±Infinity for null) → the JSON text of their record. */
export function featuresJson(values: Float64Array): string {
  if (values.length !== PREFIXES.length) throw new Error(`${values.length} values for a catalogue of ${PREFIXES.length} features`);
  if (values.length === 0) return '{}';
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // JSON.stringify prints a finite number as String() does (-0 as 0), anything else as null.
    PARTS[2 * i + 1] = Number.isFinite(v) ? String(v) : 'null';
  }
  // One flat string. A rope (`+=`) would keep 400-odd pieces alive as long as the batch, and
  // each `prefix + number` would be a string of its own: bench/rows.ts measured both as more
  // GC than JSON.stringify's, not less (README, "Cost per row").
  return PARTS.join('');
}

/**
 * The longest text featuresJson can give: every value as long as a double prints (25
 * characters, `-0.0000012345678901234567`: 17 digits after `-0.00000`). A features text from
 * a frame is never longer, so its row needs no length check before it lands (bounds.ts).
 */
export const FEATURES_JSON_MAX_LENGTH = PREFIXES.reduce((n, prefix) => n + prefix.length + 25, 1);
