// Latency distributions (HDR histograms, hdr-histogram-js) and the figures a report needs.
import hdr from 'hdr-histogram-js';

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
  /** Percentile → value, for the plot (percentiles 0 … 99.99 on a log-of-(1−p) scale). */
  curve: [number, number][];
}

export const CURVE_PERCENTILES = [0, 10, 25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.9, 99.95, 99.99];

/** Milliseconds into an HDR histogram (1 ms … 1 h, 3 significant digits) and out as a summary. */
export function summarizeLatencies(valuesMs: Iterable<number>): LatencySummary {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000, numberOfSignificantValueDigits: 3 });
  try {
    for (const v of valuesMs) if (Number.isFinite(v)) h.recordValue(Math.min(3_600_000, Math.max(1, Math.round(v))));
    const at = (p: number) => (h.totalCount === 0 ? Number.NaN : h.getValueAtPercentile(p));
    return {
      count: h.totalCount,
      p50: at(50),
      p95: at(95),
      p99: at(99),
      p999: at(99.9),
      max: h.totalCount === 0 ? Number.NaN : h.maxValue,
      mean: h.totalCount === 0 ? Number.NaN : Math.round(h.mean * 10) / 10,
      curve: CURVE_PERCENTILES.map((p) => [p, at(p)]),
    };
  } finally {
    h.destroy();
  }
}

/** Counts per whole second since `start` (ms): a rate series for the throughput plot. */
export function perSecond(timesMs: Iterable<number>, start: number): number[] {
  const series: number[] = [];
  for (const t of timesMs) {
    if (!Number.isFinite(t)) continue;
    const i = Math.max(0, Math.floor((t - start) / 1000));
    while (series.length <= i) series.push(0);
    series[i]!++;
  }
  return series;
}
