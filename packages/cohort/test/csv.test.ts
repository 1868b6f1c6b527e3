import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cohortMeta, cohortPatients, cohortStream, CohortFormatError, generateCohort, readCohort, writeCohort, type CohortEvent, type CohortOptions } from '../src/index.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'cohort-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const options: CohortOptions = { seed: 3, patients: 40, hours: 48, artefactRate: 0.03 };
const write = (dir: string, o = options) => writeCohort(dir, { meta: cohortMeta(o), patients: cohortPatients(o), events: cohortStream(o) });
const digest = (dir: string) =>
  Object.fromEntries(readdirSync(dir).sort().map((f) => [f, createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')]));

describe('cohort CSV files', () => {
  it('same seed, same bytes; another seed, other bytes', async () => {
    const [a, b, c] = [tmp(), tmp(), tmp()];
    await write(a);
    await write(b);
    await write(c, { ...options, seed: 4 });
    expect(Object.keys(digest(a))).toEqual(['cohort.json', 'encounters.csv', 'labels.csv', 'labs.csv', 'notes.csv', 'patients.csv', 'vitals.csv']);
    expect(digest(b)).toEqual(digest(a));
    expect(digest(c)['vitals.csv']).not.toBe(digest(a)['vitals.csv']);
  });

  it('reads back exactly what was written: patients, labels, events in stream order', async () => {
    const dir = tmp();
    const cohort = generateCohort(options);
    await writeCohort(dir, { meta: cohort.meta, patients: cohort.patients, events: cohort.events });
    const files = await readCohort(dir);
    expect(files.meta).toEqual(cohort.meta);
    expect(files.patients).toEqual(cohort.patients);
    expect(files.labels.length).toBeGreaterThan(0);
    expect(Object.keys(files.labels[0]!)).toEqual(['patientId', 'encounterId', 'time', 'label', 'hoursToEvent', 'eventType']);
    const records: CohortEvent[] = [];
    for await (const r of files.records) records.push(r);
    expect(records).toEqual(cohort.events);
    // Iterable again, and as bare raw events.
    let n = 0;
    for await (const e of files.events) if (e.eventId === cohort.events[n++]!.event.eventId) continue;
    expect(n).toBe(cohort.events.length);
  });

  it('can give events in event-time order, or without artefacts', async () => {
    const dir = tmp();
    await write(dir);
    const byEvent: number[] = [];
    for await (const e of (await readCohort(dir, { order: 'event' })).events) byEvent.push(Date.parse(e.occurredAt));
    expect(byEvent).toEqual([...byEvent].sort((x, y) => x - y));
    let artefacts = 0;
    for await (const r of (await readCohort(dir, { withoutArtefacts: true })).records) if (r.artefact) artefacts++;
    expect(artefacts).toBe(0);
  });

  it('names the file and line of a row that is not an event', async () => {
    const dir = tmp();
    await write(dir);
    const path = join(dir, 'vitals.csv');
    const lines = readFileSync(path, 'utf8').split('\n');
    lines[3] = lines[3]!.replace(/,heart_rate,\d+,/, ',heart_rate,fast,').replace(/,(respiratory_rate|spo2|systolic_bp|diastolic_bp|mean_bp|supplemental_o2|gcs|avpu|temperature|o2_flow|fio2),[\d.]+,/, ',$1,fast,');
    writeFileSync(path, lines.join('\n'));
    const files = await readCohort(dir);
    const drain = async () => {
      for await (const _ of files.events) void _;
    };
    await expect(drain()).rejects.toThrow(CohortFormatError);
    await expect(drain()).rejects.toThrow(/vitals\.csv:4: value: not a number/);
  });

  it('refuses a directory that is not a cohort', async () => {
    await expect(readCohort(tmp())).rejects.toThrow(/not a cohort directory/);
  });
});

describe('a cohort directory written by hand', () => {
  it('reads without cohort.json, patients, labels or seq: files merged by delivery time, source csv', async () => {
    const dir = tmp();
    writeFileSync(
      join(dir, 'vitals.csv'),
      'event_id,patient_id,encounter_id,time,available_time,artefact,kind,value,unit,method\n' +
        'v1,p1,,2026-01-01T10:00:00Z,,,heart_rate,80,/min,\n' +
        'v2,p1,,2026-01-01T12:00:00Z,,,temperature,37.2,Cel,\n',
    );
    writeFileSync(join(dir, 'labs.csv'), 'event_id,patient_id,encounter_id,time,kind,value,unit\nl1,p1,e1,2026-01-01T11:00:00Z,lactate,2.5,mmol/L\n');
    const files = await readCohort(dir);
    expect([files.meta, files.patients, files.labels]).toEqual([null, [], []]);
    const events = [];
    for await (const e of files.events) events.push(e);
    expect(events.map((e) => e.eventId)).toEqual(['v1', 'l1', 'v2']);
    expect(events[1]).toMatchObject({ schema: 'lab_result', source: 'csv', encounterId: 'e1', producedAt: '2026-01-01T11:00:00Z', payload: { kind: 'lactate', value: 2.5, unit: 'mmol/L' } });
  });
});
