// Frames ⇄ contract objects, shared by the vector and the score: the in-process objects stay
// what they were (features by name); only the bytes on the bus change.
import { FEATURE_COUNT, FEATURE_NAMES } from '../featurize/catalog.js';
import { toFeatureValues } from '../featurize/featurize.js';
import type { FeatureValues } from '../schemas/feature-vector.js';
import { decodeWith, type Validation, type Validator } from '../validation.js';
import type { TSchema, Static } from '@sinclair/typebox';
import { WireError } from './bytes.js';
import { decodeFrame, isFrame, type FrameKind } from './frame.js';

/**
 * Features records decoded from a frame, with the values they were built from. Frozen at
 * decode, so the values stay theirs: encoding a score whose features are a decoded vector's
 * (scoring's hot path: 7 % of its CPU walking 211 names by the profile of issue 18) takes
 * them as they are, and a reader can tell the record holds exactly the catalogue without
 * listing its keys.
 */
const decodedValues = new WeakMap<object, Float64Array>();

/** True for a features record decodeContract built from a frame: exactly the catalogue's names, frozen. */
export const isDecodedCatalogue = (features: object): boolean => decodedValues.has(features);

/**
 * A payload's features as a frame carried them: catalogue-ordered values (NaN = missing;
 * never written to) and the same values as packed on the wire.
 */
export interface CatalogueValues {
  readonly values: Float64Array;
  readonly packed: Uint8Array;
}

/** Payloads whose `features` is built from frame values only when read (see withCatalogueFeatures). */
const cataloguePayloads = new WeakMap<object, CatalogueValues>();

/** The frame values behind a decoded (or withCatalogueFeatures) payload, without building its features record. */
export const catalogueOf = (payload: object): CatalogueValues | undefined => cataloguePayloads.get(payload);

/**
 * Gives `payload` a `features` property built from `catalogue` on first read (frozen, and
 * known to catalogueValues and isDecodedCatalogue), and remembers the values for catalogueOf.
 * Scoring and the sink read the values by index and never need the 211-name record, whose
 * building was 6 % of scoring's CPU and much of its garbage (issue 18's profile). Readers
 * that do read `features` (JSON.stringify, spread, deep equality, the dashboard) see a plain
 * enumerable property with the same record as before; assigning it replaces it.
 */
export function withCatalogueFeatures<P extends object>(payload: P, catalogue: CatalogueValues): P {
  let built: FeatureValues | null = null;
  Object.defineProperty(payload, 'features', {
    enumerable: true,
    configurable: true,
    get(): FeatureValues {
      if (built === null) {
        built = Object.freeze(toFeatureValues(catalogue.values));
        decodedValues.set(built, catalogue.values);
      }
      return built;
    },
    set(this: P, value: unknown) {
      // Replaced first: on a frozen payload (a decoded score, shared by its readers) this
      // throws, and the payload keeps its frame's values for every reader.
      Object.defineProperty(this, 'features', { value, writable: true, enumerable: true, configurable: true });
      cataloguePayloads.delete(this);
    },
  });
  cataloguePayloads.set(payload, catalogue);
  return payload;
}

const FEATURE_INDEX = new Map(FEATURE_NAMES.map((n, i) => [n, i]));

/** A frame's values read by name in place (null: missing, or a name the catalogue does not have), with no record built. */
export function featureLookup(values: Float64Array): (name: string) => number | null {
  return (name) => {
    const i = FEATURE_INDEX.get(name);
    if (i === undefined) return null;
    const v = values[i]!;
    return Number.isFinite(v) ? v : null;
  };
}

/**
 * Some features of a catalogue-ordered vector, by name, as toFeatureValues would give them
 * (names outside the catalogue are left out): what a reader of a few names (NEWS2) needs,
 * without the 211-name record.
 */
export function pickFeatures(values: Float64Array, names: readonly string[]): FeatureValues {
  const record: FeatureValues = {};
  for (const name of names) {
    const i = FEATURE_INDEX.get(name);
    if (i === undefined) continue;
    const v = values[i]!;
    record[name] = Number.isFinite(v) ? v : null;
  }
  return record;
}

/** A features record → catalogue-ordered values (NaN = null), or why it is not a catalogue vector. */
export function catalogueValues(features: Readonly<FeatureValues>): Float64Array {
  const known = decodedValues.get(features);
  if (known) return known.slice();
  const values = new Float64Array(FEATURE_COUNT);
  for (let i = 0; i < FEATURE_COUNT; i++) {
    const name = FEATURE_NAMES[i]!;
    const v = Object.hasOwn(features, name) ? features[name] : undefined;
    if (v === undefined) throw new Error(`cannot encode: feature ${name} is absent (a compact message carries the whole catalogue)`);
    values[i] = v ?? NaN;
  }
  const keys = Object.keys(features).length;
  if (keys !== FEATURE_COUNT) throw new Error(`cannot encode: ${keys - FEATURE_COUNT} name(s) outside the feature catalogue`);
  return values;
}

/**
 * The message as header JSON: everything but `payload.features`, which is never read (a
 * spread would build it for a payload decoded from a frame). Same text as before: keys in
 * their order, features left out as `undefined` left it out.
 */
export function headerOf(event: { payload: object }): string {
  const payload: Record<string, unknown> = {};
  for (const key of Object.keys(event.payload)) if (key !== 'features') payload[key] = (event.payload as Record<string, unknown>)[key];
  return JSON.stringify({ ...event, payload });
}

/** The values to put in a frame for `payload`: its frame's packed bytes when it has them, else its features record's. */
export function frameValuesOf(payload: { features: Readonly<FeatureValues> }): Float64Array | Uint8Array {
  return catalogueOf(payload)?.packed ?? catalogueValues(payload.features);
}

const failure = (err: WireError): Validation<never> => ({ ok: false, reason: err.reason, error: err.message, issues: [{ path: err.path, message: err.message }] });

/**
 * Bytes → a valid contract object, from a frame of `kind` or from the JSON of before (kept
 * readable so that messages already on a topic during an upgrade still land). The header is
 * validated with the contract's own validator (features empty), then the values are put in.
 */
export function decodeContract<T extends TSchema>(
  bytes: Uint8Array | string,
  kind: FrameKind,
  validator: Validator<T>,
  check?: (value: Static<T>) => WireError | null,
): Validation<Static<T>> {
  if (!isFrame(bytes)) return decodeWith((v) => validator.validate(v), bytes);
  let frame;
  try {
    frame = decodeFrame(bytes, kind);
  } catch (err) {
    if (err instanceof WireError) return failure(err);
    throw err;
  }
  const header = frame.header as { payload?: unknown } | null;
  if (typeof header !== 'object' || header === null || typeof header.payload !== 'object' || header.payload === null || Array.isArray(header.payload)) {
    return failure(new WireError('schema_invalid', 'header must be a JSON object with a payload object'));
  }
  (header.payload as { features: FeatureValues }).features = {};
  const valid = validator.validate(header);
  if (!valid.ok) return valid;
  const problem = check?.(valid.value);
  if (problem) return failure(problem);
  // Unpacked values are finite or NaN: exactly what catalogueValues would make of the record.
  const payload = (valid.value as { payload: { features?: FeatureValues } }).payload;
  delete payload.features;
  withCatalogueFeatures(payload, { values: frame.values, packed: frame.packed });
  return valid;
}
