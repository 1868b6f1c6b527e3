// A time series kept sorted by (time, value) in typed arrays: cheap in memory (16 bytes
// an observation), and sorted on insert so arrival order does not matter.

export class Series {
  times: Float64Array;
  values: Float64Array;
  length = 0;

  constructor(capacity = 8) {
    this.times = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  static from(times: Float64Array, values: Float64Array): Series {
    const s = new Series(Math.max(4, times.length));
    s.times.set(times);
    s.values.set(values);
    s.length = times.length;
    return s;
  }

  clone(): Series {
    return Series.from(this.times.subarray(0, this.length), this.values.subarray(0, this.length));
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
    }
    this.times[i] = time;
    this.values[i] = value;
    this.length++;
  }

  /** Drops observations before `cutoff`, keeping the most recent `keepLast` whatever their age. */
  pruneBefore(cutoff: number, keepLast = 0): void {
    let drop = lowerBound(this.times, this.length, cutoff);
    drop = Math.min(drop, Math.max(0, this.length - keepLast));
    if (drop <= 0) return;
    this.times.copyWithin(0, drop, this.length);
    this.values.copyWithin(0, drop, this.length);
    this.length -= drop;
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
  }

  /** Bytes held by the arrays (for the state-size metric). */
  get bytes(): number {
    return this.times.byteLength + this.values.byteLength;
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
