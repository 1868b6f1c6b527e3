import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSource } from '../src/sources.js';

const dir = mkdtempSync(join(tmpdir(), 'ehr-producer-physionet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the physionet source', () => {
  it('replays the first N stays of a .psv directory, staggered from now, in event-time order, at ×60 by default', async () => {
    for (const id of ['p1', 'p2', 'p3']) writeFileSync(join(dir, `${id}.psv`), 'HR|Resp|Age|Gender|ICULOS|SepsisLabel\n80|18|50|1|1|0\n90|22|50|1|2|0\n');
    const now = Date.parse('2026-02-01T00:00:00Z');
    const opened = await openSource({ kind: 'physionet', file: dir, stays: 2 }, now);
    const events = [...(opened.events as Iterable<{ patientId: string; occurredAt: string; schema: string }>)];
    expect(new Set(events.map((e) => e.patientId))).toEqual(new Set(['physionet-p1', 'physionet-p2']));
    const times = events.map((e) => Date.parse(e.occurredAt));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(events[0]).toMatchObject({ schema: 'admission', occurredAt: '2026-02-01T00:00:00Z' });
    expect(events.find((e) => e.patientId === 'physionet-p2')!.occurredAt).toBe('2026-02-01T00:30:00Z');
    expect(opened.pace).toEqual({ kind: 'speed', factor: 60 });
    expect(opened.description).toMatch(/2 of 3 ICU stays/);
  });
});

describe('PRODUCER_SOURCE=physionet (the service streams real ICU stays while it runs)', () => {
  it('needs PRODUCER_FILE, naming it, and asks for PRODUCER_STAYS stays', async () => {
    const { loadConfig, sourceSpecFromConfig } = await import('../src/index.js');
    expect(() => loadConfig({ PRODUCER_SOURCE: 'physionet' })).toThrow(/PRODUCER_FILE: is required/);
    const config = loadConfig({ PRODUCER_SOURCE: 'physionet', PRODUCER_FILE: dir, PRODUCER_STAYS: '7' });
    expect(sourceSpecFromConfig(config)).toMatchObject({ kind: 'physionet', file: dir, stays: 7 });
  });
});
