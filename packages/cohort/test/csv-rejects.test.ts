// A cohort CSV row that cannot be read: by default the read fails naming the file and line
// (training's use); with onRejectedRow each such row is handed over in its place and the
// read goes on (the producer's replay dead-letters them).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COLUMNS, CohortFormatError, readCohort, type ReadCohortOptions } from '../src/index.js';

type Rejection = Parameters<NonNullable<ReadCohortOptions['onRejectedRow']>>[0];

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const t0 = Date.parse('2026-01-05T00:00:00Z');
/** Row i of vitals.csv (on line i + 2): a heart rate of patient p(i % 10), a minute after the last. */
const vitalRow = (i: number) => {
  const time = new Date(t0 + i * 60_000).toISOString();
  return `${i},v${i},p${i % 10},e${i % 10},${time},${time},,heart_rate,${60 + (i % 40)},/min,`;
};

/** A cohort directory with vitals.csv of `rows` rows, some lines (1-based, the header is 1) replaced. */
function cohortDir(rows: number, replace: Record<number, string> = {}): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cohort-rejects-'));
  dirs.push(dir);
  const lines = [COLUMNS.vitals.join(','), ...Array.from({ length: rows }, (_, i) => vitalRow(i))];
  for (const [line, text] of Object.entries(replace)) lines[Number(line) - 1] = text;
  const path = join(dir, 'vitals.csv');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return { dir, path };
}

async function readAllEvents(dir: string, options: ReadCohortOptions = {}): Promise<{ ids: string[]; rejected: Rejection[]; order: string[] }> {
  const rejected: Rejection[] = [];
  const order: string[] = [];
  const files = await readCohort(dir, {
    ...options,
    onRejectedRow: async (r) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      rejected.push(r);
      order.push(`rejected:${r.line}`);
    },
  });
  const ids: string[] = [];
  for await (const e of files.events) {
    ids.push(e.eventId);
    order.push(e.eventId);
  }
  return { ids, rejected, order };
}

const drain = async (dir: string) => {
  for await (const _ of (await readCohort(dir)).events) void _;
};

describe('a row csv-parse cannot read', () => {
  it('fails the read naming the file and line by default, where it was a bare CsvError', async () => {
    const { dir } = cohortDir(1000, { 502: `${vitalRow(500)},extra` });
    await expect(drain(dir)).rejects.toThrow(CohortFormatError);
    await expect(drain(dir)).rejects.toThrow(/vitals\.csv:502: Invalid Record Length: columns length is 11, got 12/);
  });

  it('a field too many or too few: handed to onRejectedRow in its place (file, line, reason, text), and every other row is read', async () => {
    const { dir, path } = cohortDir(1000, { 502: `${vitalRow(500)},extra`, 800: vitalRow(798).split(',').slice(0, 5).join(',') });
    const { ids, rejected, order } = await readAllEvents(dir);
    expect(ids).toHaveLength(998);
    expect(ids).not.toContain('v500');
    expect(ids).not.toContain('v798');
    expect(rejected).toEqual([
      { file: path, line: 502, endLine: 502, kind: 'unparseable', reason: 'Invalid Record Length: columns length is 11, got 12 on line 502', raw: `${vitalRow(500)},extra`, rawLength: vitalRow(500).length + 6, patientId: null, eventId: null },
      expect.objectContaining({ file: path, line: 800, kind: 'unparseable', reason: expect.stringMatching(/got 5 on line 800/) }),
    ]);
    // In stream order: after the row before it, before the row after it.
    expect(order.slice(order.indexOf('v499'), order.indexOf('v499') + 3)).toEqual(['v499', 'rejected:502', 'v501']);
  });

  it('a stray quote: the rows it runs together are one rejection over their lines, and reading goes on after them', async () => {
    const { dir, path } = cohortDir(20, { 10: vitalRow(8).replace(',p8,', ',"p8,'), 12: vitalRow(10).replace(',/min,', ',"/min",') });
    const { ids, rejected } = await readAllEvents(dir);
    expect(ids).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`).filter((id) => !['v8', 'v9', 'v10'].includes(id)));
    expect(rejected).toEqual([expect.objectContaining({ file: path, line: 10, endLine: 12, kind: 'unparseable', reason: expect.stringMatching(/^Invalid Closing Quote/) })]);
    expect(rejected[0]!.raw.split('\n')).toHaveLength(3);
  });

  it('a quote never closed fails naming the file and the line it opens on, with or without onRejectedRow (the rest of the file is one field)', async () => {
    const { dir } = cohortDir(1000, { 10: vitalRow(8).replace(',p8,', ',"p8,') });
    await expect(drain(dir)).rejects.toThrow(/vitals\.csv:10: a quote opened in this row is never closed, so the rest of the file \(lines 10 to 1001\) cannot be read as rows/);
    await expect(readAllEvents(dir)).rejects.toThrow(CohortFormatError);
  });
});

describe('a row whose values are not a valid event', () => {
  it('fails the read by default, naming the file and line (as before)', async () => {
    const { dir } = cohortDir(1000, { 502: vitalRow(500).replace(/heart_rate,\d+,/, 'heart_rate,eighty,') });
    await expect(drain(dir)).rejects.toThrow(/vitals\.csv:502: value: not a number: "eighty"/);
  });

  it('with onRejectedRow: handed over with the ids it has, and the 999 other rows are read', async () => {
    const bad = vitalRow(500).replace(/heart_rate,\d+,/, 'heart_rate,eighty,');
    const { dir, path } = cohortDir(1000, { 502: bad, 900: vitalRow(898).replace('heart_rate', 'heart_rat') });
    const { ids, rejected } = await readAllEvents(dir);
    expect(ids).toHaveLength(998);
    expect(rejected[0]).toEqual({ file: path, line: 502, endLine: 502, kind: 'invalid', reason: 'value: not a number: "eighty"', raw: bad, rawLength: bad.length, patientId: 'p0', eventId: 'v500' });
    // Fails its schema (validate, the default).
    expect(rejected[1]).toMatchObject({ line: 900, kind: 'invalid', eventId: 'v898' });
  });

  it("keeps a sane length of a hostile row's text and reason", async () => {
    const { dir } = cohortDir(5, { 3: vitalRow(1).replace(/heart_rate,\d+,/, `heart_rate,${'9x'.repeat(100_000)},`) });
    const { ids, rejected } = await readAllEvents(dir);
    expect(ids).toHaveLength(4);
    expect(rejected[0]!.raw).toHaveLength(2000);
    expect(rejected[0]!.rawLength).toBeGreaterThan(200_000);
    expect(rejected[0]!.reason.length).toBeLessThanOrEqual(1000);
    await expect(drain(dir)).rejects.toThrow(/vitals\.csv:3: value: not a number/);
  });

  it('a patients.csv or labels.csv row goes to onRejectedRow too, and the others are read', async () => {
    const { dir } = cohortDir(3);
    const header = COLUMNS.patients.join(',');
    const patient = (id: string, course: string) => `${id},e-${id},F,55,urgent,MED-A,medicine,1,2026-01-05T00:00:00Z,${course},,,discharged,2026-01-06T00:00:00Z`;
    writeFileSync(join(dir, 'patients.csv'), `${header}\n${patient('p1', 'sepsis')}\n${patient('p2', 'zombie')}\n${patient('p3', 'stable')}\n`);
    await expect(readCohort(dir)).rejects.toThrow(/patients\.csv:3: course: /);
    const rejected: Rejection[] = [];
    const files = await readCohort(dir, { onRejectedRow: (r) => void rejected.push(r) });
    expect(files.patients.map((p) => p.patientId)).toEqual(['p1', 'p3']);
    expect(rejected).toEqual([expect.objectContaining({ file: join(dir, 'patients.csv'), line: 3, kind: 'invalid', patientId: 'p2', reason: expect.stringMatching(/^course: /) })]);
  });
});

describe('a file of unreadable rows', () => {
  it('hands over thousands of bad rows in order, and fails naming the line once more than MAX_PENDING_REJECTIONS come with no good row between (they get no backpressure)', async () => {
    const { MAX_PENDING_REJECTIONS } = await import('../src/csv/read.js');
    // 3,000 bad rows among good ones: every one handed over, the good ones read.
    const mixed: Record<number, string> = {};
    for (let i = 0; i < 3000; i++) mixed[2 + 2 * i] = `${vitalRow(2 * i)},extra`;
    const r = await readAllEvents(cohortDir(6000, mixed).dir);
    expect(r.rejected).toHaveLength(3000);
    expect(r.ids).toHaveLength(3000);
    // A run of bad rows past the bound: the read fails, naming the file and the line.
    const run: Record<number, string> = {};
    for (let i = 0; i <= MAX_PENDING_REJECTIONS; i++) run[2 + i] = `${vitalRow(i)},extra`;
    const { dir, path } = cohortDir(MAX_PENDING_REJECTIONS + 10, run);
    await expect(readAllEvents(dir)).rejects.toThrow(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${MAX_PENDING_REJECTIONS + 2}: more than ${MAX_PENDING_REJECTIONS} rows in a row`));
  }, 60_000);
});
