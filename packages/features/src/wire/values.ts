// A catalogue-ordered vector packed without names, losslessly (the warehouse must see the
// same numbers as before): the catalogue version, the count, a 2-bit tag per feature, then
// each present value in the smallest exact form. Measured on realistic vectors (bench/wire.ts)
// about three in four present values are integers, most of the rest short decimals.
import { FEATURE_COUNT, FEATURE_SET_VERSION } from '../featurize/catalog.js';
import { WireError, type ByteReader, type ByteWriter } from './bytes.js';

/** missing (null / NaN / ±Infinity, as JSON carried them) */
const MISSING = 0;
/** an integer, zigzag varint */
const INTEGER = 1;
/** m / 10^k exactly (k 1..4), varint of zigzag(m)·4 + (k − 1): charted values like 36.8 */
const DECIMAL = 2;
/** anything else, float64 little-endian */
const FLOAT64 = 3;

/** Integers up to 2^48 keep zigzag·4 + 3 under 2^53 (a safe varint). */
const MAX_MAGNITUDE = 2 ** 48;
const POW10 = [1, 10, 100, 1000, 10000];

const zigzag = (v: number) => (v < 0 ? -2 * v - 1 : 2 * v);
const unzigzag = (z: number) => (z % 2 === 1 ? -(z + 1) / 2 : z / 2);

function decimalScale(v: number): number {
  for (let k = 1; k <= 4; k++) {
    const m = Math.round(v * POW10[k]!);
    // Exact by the decoder's own arithmetic: it computes m / 10^k, so that is what is checked.
    if (Math.abs(m) < MAX_MAGNITUDE && m / POW10[k]! === v) return k;
  }
  return 0;
}

/** Writes `values` (catalogue order; non-finite = missing). */
export function packValues(w: ByteWriter, values: ArrayLike<number>): void {
  const n = values.length;
  w.u8(FEATURE_SET_VERSION.length);
  for (let i = 0; i < FEATURE_SET_VERSION.length; i++) w.u8(FEATURE_SET_VERSION.charCodeAt(i));
  w.u16(n);
  const tags = w.skip((n + 3) >> 2);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    let tag = FLOAT64;
    if (!Number.isFinite(v)) tag = MISSING;
    else if (Object.is(v, -0)) w.f64(v); // neither varint form has a sign for zero
    else if (Number.isInteger(v) && Math.abs(v) < MAX_MAGNITUDE) {
      tag = INTEGER;
      w.varint(zigzag(v));
    } else {
      const k = decimalScale(v);
      if (k > 0) {
        tag = DECIMAL;
        w.varint(zigzag(Math.round(v * POW10[k]!)) * 4 + (k - 1));
      } else w.f64(v);
    }
    if (tag !== MISSING) w.orAt(tags + (i >> 2), tag << ((i & 3) * 2));
  }
}

/** Reads what packValues wrote, for this catalogue only; NaN marks a missing value. */
export function unpackValues(r: ByteReader): Float64Array {
  const versionLength = r.u8('catalogue version length');
  const version = String.fromCharCode(...r.bytes(versionLength, 'catalogue version'));
  if (version !== FEATURE_SET_VERSION) {
    throw new WireError('feature_set_mismatch', `feature set ${JSON.stringify(version.slice(0, 40))} is not this catalogue's ${FEATURE_SET_VERSION}`, 'featureSetVersion');
  }
  const n = r.u16('feature count');
  if (n !== FEATURE_COUNT) throw new WireError('feature_set_mismatch', `${n} values for feature set ${version}, which has ${FEATURE_COUNT}`, 'featureSetVersion');
  const tags = r.bytes((n + 3) >> 2, 'value tags');
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const tag = (tags[i >> 2]! >> ((i & 3) * 2)) & 3;
    if (tag === MISSING) values[i] = NaN;
    else if (tag === INTEGER) values[i] = unzigzag(r.varint(`value ${i}`));
    else if (tag === DECIMAL) {
      const z = r.varint(`value ${i}`);
      values[i] = unzigzag(Math.floor(z / 4)) / POW10[(z % 4) + 1]!;
    } else {
      const v = r.f64(`value ${i}`);
      // JSON could never carry these; a frame that does is damaged or forged.
      if (!Number.isFinite(v)) throw new WireError('schema_invalid', `value ${i} is not a finite number`, `payload.features[${i}]`);
      values[i] = v;
    }
  }
  return values;
}
