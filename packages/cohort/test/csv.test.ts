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

describe('patients.csv and labels.csv values', () => {
  const patientsHeader = 'patient_id,encounter_id,gender,age,admission_type,unit,department,spo2_scale,admit_time,course,onset_time,event_time,outcome,outcome_time';
  const good: Record<string, string> = {
    patient_id: 'p1',
    encounter_id: 'e1',
    gender: 'F',
    age: '55',
    admission_type: 'urgent',
    unit: 'MED-A',
    department: 'medicine',
    spo2_scale: '1',
    admit_time: '2026-01-05T00:00:00Z',
    course: 'sepsis',
    onset_time: '2026-01-05T04:00:00Z',
    event_time: '2026-01-05T10:00:00Z',
    outcome: 'died',
    outcome_time: '2026-01-05T14:00:00Z',
  };
  const withPatient = (change: Record<string, string>) => {
    const dir = tmp();
    const row = { ...good, ...change };
    const line = patientsHeader.split(',').map((c) => row[c]).join(',');
    writeFileSync(join(dir, 'patients.csv'), `${patientsHeader}\n${line}\n`);
    writeFileSync(join(dir, 'vitals.csv'), 'event_id,patient_id,encounter_id,time,kind,value,unit\nv1,p1,e1,2026-01-05T01:00:00Z,heart_rate,80,/min\n');
    return dir;
  };

  it('reads the values the format documents', async () => {
    const { patients } = await readCohort(withPatient({}));
    expect(patients[0]).toMatchObject({ gender: 'F', spo2Scale: 1, course: 'sepsis', outcome: 'died', eventTime: '2026-01-05T10:00:00Z' });
  });

  // Each was read without error: a zombie course, spo2_scale 7 as 1, `Died` as a stay that did not end in death (label 0 four hours before it), `soon` failing only in labelling.
  it.each([
    ['course', 'zombie'],
    ['gender', 'X'],
    ['admit_time', 'not-a-time'],
    ['spo2_scale', '7'],
    ['outcome', 'Died'],
    ['outcome', 'death'],
    ['event_time', 'soon'],
    ['onset_time', '2026-02-30T00:00:00Z'],
    ['outcome_time', 'later'],
    ['age', '-4'],
    ['patient_id', ''],
  ])('%s=%j fails naming patients.csv, the line and the column', async (column, value) => {
    const read = readCohort(withPatient({ [column]: value }));
    await expect(read).rejects.toThrow(CohortFormatError);
    await expect(read).rejects.toThrow(new RegExp(`patients\\.csv:2: ${column}: `));
  });

  it('a label that is not 0 or 1, or an event type or time the format does not have, fails naming labels.csv and the line', async () => {
    for (const [row, column] of [
      ['p1,e1,2026-01-05T01:00:00Z,yes,,', 'label'],
      ['p1,e1,2026-01-05T01:00:00Z,1,3,Death', 'event_type'],
      ['p1,e1,01/05/2026 01:00,0,,', 'time'],
    ] as const) {
      const dir = withPatient({});
      writeFileSync(join(dir, 'labels.csv'), `patient_id,encounter_id,time,label,hours_to_event,event_type\np1,e1,2026-01-05T00:00:00Z,1,10,deterioration\n${row}\n`);
      await expect(readCohort(dir), column).rejects.toThrow(new RegExp(`labels\\.csv:3: ${column}: `));
    }
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
