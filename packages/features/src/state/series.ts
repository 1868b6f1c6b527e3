// A time series kept sorted by (time, value), and sorted on insert so arrival order does
// not matter. Plain arrays of doubles (V8 keeps them unboxed, 8 bytes an element) rather
// than typed arrays: a typed array costs about 240 bytes before its first element, and most
// patients hold a handful of observations per signal, so with 50,000 patients that overhead
// was half of the feature service's memory. A dense series can be downsampled: old points are
// kept per time bucket (the bucket's lowest and highest value, each carrying how many
// observations it stands for, in `weights`), so windows keep their min, max and count to the
// bucket while memory stays bounded.

export class Series {
  times: number[];
  values: number[];
  /** How many observations each point stands for; null while every point is one observation. */
  weights: number[] | null = null;
  /** For `hasValue` on long series (the deduplication ledger): built on first use, kept in step. */
  private index: Set<number> | null = null;

  constructor(times: number[] = [], values: number[] = [], weights: number[] | null = null) {
    this.times = times;
    this.values = values;
    this.weights = weights;
  }

  get length(): number {
    return this.times.length;
  }

  static from(times: ArrayLike<number>, values: ArrayLike<number>, weights: ArrayLike<number> | null = null): Series {
    return new Series(Array.from(times), Array.from(values), weights ? Array.from(weights) : null);
  }

  clone(): Series {
    return new Series(this.times.slice(), this.values.slice(), this.weights?.slice() ?? null);
  }

  /** Inserts keeping (time, value) order; ties of both keep one copy each (they are distinct events). */
  insert(time: number, value: number): void {
    const { times, values } = this;
    let i = times.length;
    // Usually appends: walk back from the end.
    while (i > 0 && (times[i - 1]! > time || (times[i - 1] === time && values[i - 1]! > value))) i--;
    if (times.length < EXACT_BELOW) {
      // A push reserves room for 16 more: on the few points most series hold, that triples
      // their memory. Rebuilt at the exact size instead (a copy of at most a few dozen numbers).
      this.times = exactInsert(times, i, time);
      this.values = exactInsert(values, i, value);
      if (this.weights) this.weights = exactInsert(this.weights, i, 1);
    } else if (i === times.length) {
      times.push(time);
      values.push(value);
      this.weights?.push(1);
    } else {
      times.splice(i, 0, time);
      values.splice(i, 0, value);
      this.weights?.splice(i, 0, 1);
    }
    this.index?.add(value);
  }

  /**
   * Removes one observation at exactly (time, value) that stands for itself alone (a point
   * downsampled into a bucket's extremes stands for others too, and stays). True when one was.
   */
  remove(time: number, value: number): boolean {
    for (let i = lowerBound(this.times, this.length, time); i < this.length && this.times[i] === time; i++) {
      if (this.values[i] !== value || (this.weights !== null && this.weights[i] !== 1)) continue;
      this.times.splice(i, 1);
      this.values.splice(i, 1);
      this.weights?.splice(i, 1);
      this.index = null; // another point may hold the same value: rebuilt on next use
      return true;
    }
    return false;
  }

  /** Is `value` among the values (O(1) on long series: a set built on first use). */
  hasValue(value: number): boolean {
    if (this.index === null && this.length <= 64) return this.values.includes(value);
    this.index ??= new Set(this.values);
    return this.index.has(value);
  }

  /** Drops observations before `cutoff`, keeping the most recent `keepLast` whatever their age. */
  pruneBefore(cutoff: number, keepLast = 0): void {
    let drop = lowerBound(this.times, this.length, cutoff);
    drop = Math.min(drop, Math.max(0, this.length - keepLast));
    this.dropFirst(drop);
  }

  /** Drops the `count` oldest points. */
  dropFirst(count: number): void {
    const drop = Math.min(count, this.length);
    if (drop <= 0) return;
    if (this.index) for (let i = 0; i < drop; i++) this.index.delete(this.values[i]!);
    this.times.splice(0, drop);
    this.values.splice(0, drop);
    this.weights?.splice(0, drop);
  }

  /** Observations the points [lo, hi) stand for. */
  count(lo: number, hi: number): number {
    if (!this.weights) return Math.max(0, hi - lo);
    let n = 0;
    for (let i = lo; i < hi; i++) n += this.weights[i]!;
    return n;
  }

  /**
   * Keeps the points before `cutoff` per `bucketMs` bucket of time: the bucket's lowest and
   * highest value (the earlier one first), sharing the bucket's observation count. Idempotent,
   * and the same whatever order the points came in: a bucket is reduced to its extremes.
   */
  downsampleBefore(cutoff: number, bucketMs: number): void {
    const end = lowerBound(this.times, this.length, cutoff);
    if (end < 3) return;
    const { times, values } = this;
    const weights = this.weights ?? times.map(() => 1);
    const t: number[] = [];
    const v: number[] = [];
    const w: number[] = [];
    let i = 0;
    while (i < end) {
      const bucket = Math.floor(times[i]! / bucketMs);
      let j = i;
      let total = 0;
      let lo = i;
      let hi = i;
      while (j < end && Math.floor(times[j]! / bucketMs) === bucket) {
        total += weights[j]!;
        if (values[j]! < values[lo]!) lo = j;
        if (values[j]! > values[hi]!) hi = j;
        j++;
      }
      const keep = lo === hi ? [lo] : lo < hi ? [lo, hi] : [hi, lo];
      const first = Math.ceil(total / keep.length);
      keep.forEach((k, n) => {
        t.push(times[k]!);
        v.push(values[k]!);
        w.push(n === 0 ? first : total - first);
      });
      i = j;
    }
    // Nothing merged: the points are as they were.
    if (t.length === end) return;
    this.times = t.concat(times.slice(end));
    this.values = v.concat(values.slice(end));
    this.weights = w.concat(weights.slice(end));
    this.index = null;
  }

  /** Index of the first observation at or after `time`. */
  lowerBound(time: number): number {
    return lowerBound(this.times, this.length, time);
  }

  /** Index of the first observation after `time`. */
  upperBound(time: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid]! <= time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Position of an exact (time, value) entry, or -1. */
  indexOf(time: number, value: number): number {
    for (let i = this.lowerBound(time); i < this.length && this.times[i] === time; i++) if (this.values[i] === value) return i;
    return -1;
  }

  /** Approximate bytes held (for the state-size metric). */
  get bytes(): number {
    return 96 + this.length * (this.weights ? 24 : 16) + (this.index ? this.index.size * 40 : 0);
  }
}

/** Below this many points a series is kept at its exact size. */
const EXACT_BELOW = 32;

const exactInsert = (a: number[], i: number, x: number): number[] => (i === a.length ? a.concat([x]) : a.slice(0, i).concat([x], a.slice(i)));

function lowerBound(times: readonly number[], length: number, time: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! < time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
