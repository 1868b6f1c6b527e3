import { describe, expect, it } from 'vitest';
import { metricValue } from '../src/pipeline.js';
import { readProc, startSampler } from '../src/procstat.js';

describe('readProc', () => {
  it('reads CPU seconds and resident memory of a live process, null for a dead one', () => {
    const s = readProc(process.pid)!;
    expect(s.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(s.hwmBytes).toBeGreaterThanOrEqual(s.rssBytes);
    expect(s.cpuSeconds).toBeGreaterThan(0);
    expect(readProc(2 ** 22 + 12345)).toBeNull();
  });

  it('sums CPU over a sampled window', async () => {
    const sampler = startSampler(() => ({ me: process.pid }), 20);
    // Spin for 100 ms of this process's own CPU time, not of wall time: on a loaded machine
    // 200 ms of wall time can hold only 40 ms of CPU.
    const start = process.cpuUsage();
    while (process.cpuUsage(start).user + process.cpuUsage(start).system < 100_000) Math.sqrt(Date.now());
    const [me] = sampler.stop();
    expect(me!.name).toBe('me');
    expect(me!.cpuSeconds).toBeGreaterThan(0.05);
    expect(me!.samples).toBeGreaterThan(1);
  });
});

describe('metricValue', () => {
  const text = ['# HELP x', 'ehr_x_total{reason="a",service="f"} 2', 'ehr_x_total{reason="b",service="f"} 3', 'ehr_xy_total 9', 'ehr_g 4'].join('\n');
  it('sums the samples matching the labels; NaN when there is none', () => {
    expect(metricValue(text, 'ehr_x_total')).toBe(5);
    expect(metricValue(text, 'ehr_x_total', { reason: 'b' })).toBe(3);
    expect(metricValue(text, 'ehr_g')).toBe(4);
    expect(metricValue(text, 'ehr_missing')).toBeNaN();
  });
});
