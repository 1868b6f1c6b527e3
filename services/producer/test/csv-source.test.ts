// PRODUCER_SOURCE=csv with rows that cannot be read: each is dead-lettered naming the file and
// line, counted, and the replay publishes every other row (it used to end at the first one,
// publishing nothing, the source reported down).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COLUMNS } from '@ehr/cohort';
import type { MemoryBus } from '@ehr/bus';
import { decodeDeadLetter, TOPICS, type DeadLetter } from '@ehr/features';
import { afterAll, describe, expect, it } from 'vitest';
import { openSource } from '../src/index.js';
import { drain, startProducer } from './helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const t0 = Date.parse('2026-01-05T00:00:00Z');
/** Row i of vitals.csv (line i + 2): a heart rate of patient p(i % 10), a minute after the last. */
const vitalRow = (i: number) => {
  const time = new Date(t0 + i * 60_000).toISOString();
  return `${i},v${i},p${i % 10},e${i % 10},${time},${time},,heart_rate,${60 + (i % 40)},/min,`;
};

/** A cohort directory of one vitals.csv with 1,000 rows, some lines (the header is line 1) replaced. */
function cohortDir(replace: Record<number, string>): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'producer-csv-rejects-'));
  dirs.push(dir);
  const lines = [COLUMNS.vitals.join(','), ...Array.from({ length: 1000 }, (_, i) => vitalRow(i))];
  for (const [line, text] of Object.entries(replace)) lines[Number(line) - 1] = text;
  const path = join(dir, 'vitals.csv');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return { dir, path };
}

let groups = 0;
/** The dead letters on the bus, once `expected` have come (or after a while). */
async function deadLetters(bus: MemoryBus, expected: number, timeoutMs = 10_000): Promise<DeadLetter[]> {
  const got: DeadLetter[] = [];
  const sub = await bus.subscribe({
    groupId: `csv-dead-letters-${++groups}`,
    topics: [TOPICS.deadLetter],
    handler: async ({ records }) => {
      for (const r of records) {
        const d = decodeDeadLetter(r.value.toString());
        if (!d.ok) throw new Error(d.error);
        got.push(d.value);
      }
    },
  });
  const deadline = Date.now() + timeoutMs;
  while (got.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 50));
  await sub.stop();
  return got;
}

async function finished(producer: Awaited<ReturnType<typeof startProducer>>) {
  let ready = (await producer.service.app.inject('/health/ready')).json();
  for (let i = 0; i < 250 && !/finished|failed/.test(ready.dependencies.source.detail ?? ''); i++) {
    await new Promise((r) => setTimeout(r, 20));
    ready = (await producer.service.app.inject('/health/ready')).json();
  }
  return ready.dependencies.source as { state: string; detail: string };
}

const metric = (text: string, reason: string) => Number(new RegExp(`^ehr_producer_dead_letters_total\\{[^}]*reason="${reason}"[^}]*\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);

describe('PRODUCER_SOURCE=csv with a row that cannot be read', () => {
  it.each([
    ['value=eighty', (i: number) => vitalRow(i).replace(/heart_rate,\d+,/, 'heart_rate,eighty,'), 'schema_invalid', 'value: not a number: "eighty"'],
    ['a field too many', (i: number) => `${vitalRow(i)},extra`, 'unparseable', 'Invalid Record Length: columns length is 11, got 12 on line 502'],
  ] as const)('%s on line 502 of 1,000: the 999 good rows are published, the bad one dead-lettered with file and line, and counted', async (_, bad, reason, why) => {
    const { dir, path } = cohortDir({ 502: bad(500) });
    const producer = await startProducer({ PRODUCER_SOURCE: 'csv', PRODUCER_FILE: dir, PRODUCER_SPEED: 'max' });
    try {
      const got = await drain(producer.bus, 999);
      // Keyed by patient (partitions interleave): each patient's rows in order, every good row once.
      const ids = got.map((r) => r.event.eventId);
      expect([...ids].sort()).toEqual(Array.from({ length: 1000 }, (_, i) => `v${i}`).filter((id) => id !== 'v500').sort());
      const p3 = ids.filter((id) => Number(id.slice(1)) % 10 === 3);
      expect(p3).toEqual([...p3].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))));
      const letters = await deadLetters(producer.bus, 1);
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({ service: 'producer', reason, sourceTopic: 'producer:csv', sourceOffset: '502', error: `${path}:502: ${why}` });
      expect(Buffer.from(letters[0]!.originalBytes, 'base64').toString()).toBe(bad(500));
      expect(await finished(producer)).toMatchObject({ state: 'up', detail: expect.stringMatching(/^finished: 999 events/) });
      expect(metric((await producer.service.app.inject('/metrics')).body, reason)).toBe(1);
    } finally {
      await producer.stop();
    }
  });
});

describe('the csv source', () => {
  it('sends each refused row once (not again for the pass that times the replay), with an id of its own even when two rows are equal', async () => {
    const bad = vitalRow(500).replace(/heart_rate,\d+,/, 'heart_rate,eighty,');
    const { path, dir } = cohortDir({ 502: bad, 503: bad });
    const sent: DeadLetter[][] = [];
    const opened = await openSource({ kind: 'csv', file: dir, speed: 'max', deadLetter: async (letters) => void sent.push(letters) }, Date.parse('2030-01-01T00:00:00Z'));
    expect(opened.shiftTo).toBeDefined();
    expect(sent).toEqual([]);
    const ids: string[] = [];
    for await (const e of opened.events) ids.push(e.eventId);
    expect(ids).toHaveLength(998);
    const letters = sent.flat();
    expect(letters.map((d) => d.error)).toEqual([`${path}:502: value: not a number: "eighty"`, `${path}:503: value: not a number: "eighty"`]);
    expect(new Set(letters.map((d) => d.eventId)).size).toBe(2);
    // Sent before the next good row streamed, not held to the end.
    expect(sent.length).toBe(1);
  });

  it('without a dead-letter hook (npm run produce) the first bad row fails the source, naming the file and line', async () => {
    const { dir } = cohortDir({ 502: `${vitalRow(500)},extra` });
    await expect(openSource({ kind: 'csv', file: dir, speed: 'max' })).rejects.toThrow(/vitals\.csv:502: Invalid Record Length/);
  });
});
