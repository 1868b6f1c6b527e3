// Missing values are handled one way everywhere (training, inference, export):
// null, undefined and NaN become MISSING_SENTINEL, a finite number strictly below every
// real feature value. Every split is `value < threshold → left`, and every threshold is
// a real (finite, > MISSING_SENTINEL) value, so a missing value always goes LEFT — in our
// flat forest, in the trainer's bin matrix (missing = bin 0) and in an exported
// ml-random-forest / ml-cart tree (which compares `row[splitColumn] < splitValue`).
// The sentinel is finite so that it survives JSON (`-Infinity` would become `null`), and
// it is the most negative float32 (-FLT_MAX) so that float32 tools (scikit-learn trees,
// ONNX tree ensembles) represent it exactly too. Values at or below it (e.g. -Infinity)
// count as missing; real clinical values are never that small.

/** -FLT_MAX = -3.4028234663852886e38: the value that stands for "missing". */
export const MISSING_SENTINEL = -3.4028234663852886e38;

/** True for null, undefined, NaN and anything at or below the sentinel (e.g. -Infinity). */
export function isMissing(value: number | null | undefined): boolean {
  return value === null || value === undefined || !(value > MISSING_SENTINEL);
}

/** Maps a raw feature value to the number the model compares: missing → MISSING_SENTINEL. */
export function toModelValue(value: number | null | undefined): number {
  return value === null || value === undefined || !(value > MISSING_SENTINEL) ? MISSING_SENTINEL : value;
}

/** A row with every missing value replaced by MISSING_SENTINEL (for ml-random-forest). */
export function withSentinel(row: ArrayLike<number | null | undefined>): number[] {
  const out = new Array<number>(row.length);
  for (let i = 0; i < row.length; i++) out[i] = toModelValue(row[i]);
  return out;
}
