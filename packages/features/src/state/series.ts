// A time series kept sorted by (time, value) in typed arrays: cheap in memory (16 bytes
// an observation), and sorted on insert so arrival order does not matter. A dense series
// can be downsampled: old points are kept per time bucket (the bucket's lowest and highest
// value, each carrying how many observations it stands for, in `weights`), so windows keep
// their min, max and count to the bucket while memory stays bounded.

export class Series {
  times: Float64Array;
  values: Float64Array;
  /** How many observations each point stands for; null while every point is one observation. */
  weights: Float64Array | null = null;
  length = 0;
  /** For `hasValue` on long series (the deduplication ledger): built on first use, kept in step. */
  private index: Set<number> | null = null;

  constructor(capacity = 8) {
    this.times = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  static from(times: Float64Array, values: Float64Array, weights: Float64Array | null = null): Series {
    const s = new Series(Math.max(4, times.length));
    s.times.set(times);
    s.values.set(values);
    if (weights) {
      s.weights = new Float64Array(s.times.length);
      s.weights.set(weights);
    }
    s.length = times.length;
    return s;
  }

  clone(): Series {
    return Series.from(this.times.subarray(0, this.length), this.values.subarray(0, this.length), this.weights?.subarray(0, this.length) ?? null);
  }

  /** Inserts keeping (time, value) order; ties of both keep one copy each (they are distinct events). */
  insert(time: number, value: number): void {
    if (this.length === this.times.length) this.grow();
    let i = this.length;
    // Usually appends: walk back from the end.
    while (i > 0 && (this.times[i - 1]! > time || (this.times[i - 1] === time && this.values[i - 1]! > value))) i--;
    if (i < this.length) {
      this.times.copyWithin(i + 1, i, this.length);
      this.values.copyWithin(i + 1, i, this.length);
      this.weights?.copyWithin(i + 1, i, this.length);
    }
    this.times[i] = time;
    this.values[i] = value;
    if (this.weights) this.weights[i] = 1;
    this.length++;
    this.index?.add(value);
  }

  /** Is `value` among the values (O(1) on long series: a set built on first use). */
  hasValue(value: number): boolean {
    if (this.index === null && this.length <= 64) {
      for (let i = 0; i < this.length; i++) if (this.values[i] === value) return true;
      return false;
    }
    this.index ??= new Set(this.values.subarray(0, this.length));
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
    this.times.copyWithin(0, drop, this.length);
    this.values.copyWithin(0, drop, this.length);
    this.weights?.copyWithin(0, drop, this.length);
    this.length -= drop;
    if (this.times.length > 64 && this.length < this.times.length / 4) this.shrink();
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
    const weights = this.weights ?? new Float64Array(this.times.length).fill(1);
    let out = 0;
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
      const kept = keep.map((k, n) => ({ t: times[k]!, v: values[k]!, w: n === 0 ? first : total - first }));
      for (const k of kept) {
        times[out] = k.t;
        values[out] = k.v;
        weights[out] = k.w;
        out++;
      }
      i = j;
    }
    const removed = end - out;
    // Nothing merged: the points were rewritten in place as they were.
    if (removed === 0) return;
    times.copyWithin(out, end, this.length);
    values.copyWithin(out, end, this.length);
    weights.copyWithin(out, end, this.length);
    this.length -= removed;
    this.weights = weights;
    this.index = null;
    if (this.times.length > 64 && this.length < this.times.length / 4) this.shrink();
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

  private grow(): void {
    this.resize(this.times.length * 2);
  }

  private shrink(): void {
    this.resize(Math.max(8, this.length * 2));
  }

  private resize(capacity: number): void {
    const t = new Float64Array(capacity);
    const v = new Float64Array(capacity);
    t.set(this.times.subarray(0, this.length));
    v.set(this.values.subarray(0, this.length));
    this.times = t;
    this.values = v;
    if (this.weights) {
      const w = new Float64Array(capacity);
      w.set(this.weights.subarray(0, this.length));
      this.weights = w;
    }
  }

  /** Bytes held by the arrays (for the state-size metric). */
  get bytes(): number {
    return this.times.byteLength + this.values.byteLength + (this.weights?.byteLength ?? 0) + (this.index ? this.index.size * 40 : 0);
  }
}

function lowerBound(times: Float64Array, length: number, time: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! < time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
