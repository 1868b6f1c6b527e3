// What a patient state read back from the changelog may hold. A changelog is input too: a
// corrupt or forged record must be skipped (the patient starts afresh), never restored. A
// state whose latest event time was 1e300 made every later event of that patient throw while
// its "late" message was written, a processing_error each, stalling the partition for good; a
// time that was a string made the partition's watermark NaN, and nobody was evicted again.
import { Type, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { EARLIEST_YEAR, EncounterId } from '../schemas/common.js';

const DAY_MS = 86_400_000;
/** Event times as the event schema accepts them (years EARLIEST_YEAR to 9999), a day either side for zone offsets. */
export const EARLIEST_TIME_MS = Date.UTC(EARLIEST_YEAR, 0, 1) - DAY_MS;
export const LATEST_TIME_MS = Date.UTC(10_000, 0, 1) + DAY_MS;

const Time = Type.Number({ minimum: EARLIEST_TIME_MS, maximum: LATEST_TIME_MS });
const TimeOrNone = Type.Union([Time, Type.Null()]);
const Count = Type.Integer({ minimum: 0 });
const Code = Type.Integer({ minimum: -1, maximum: 1_000_000 });
const Name = Type.String({ maxLength: 256 });
const stamped = <T extends Record<string, TSchema>>(fields: T) => Type.Object({ time: Time, hash: Type.Number(), ...fields });
const orNone = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const RestoredFacts = Type.Object({
  encounter: orNone(stamped({ id: EncounterId })),
  admission: orNone(
    stamped({
      admissionType: Code,
      department: Code,
      departmentName: orNone(Name),
      gender: Code,
      age: Type.Optional(orNone(Type.Number({ minimum: 0, maximum: 150 }))),
      hospitalAdmitTime: Type.Optional(TimeOrNone),
    }),
  ),
  location: orNone(stamped({ unit: Code, unitName: Name, icu: Type.Boolean() })),
  spo2Scale: orNone(stamped({ scale: Type.Union([Type.Literal(1), Type.Literal(2)]) })),
  maxTime: TimeOrNone,
  dischargedAt: TimeOrNone,
  lastEmittedAt: TimeOrNone,
  firstTime: Type.Optional(TimeOrNone),
  dedupFloor: Type.Optional(TimeOrNone),
  stayCounts: Type.Optional(Type.Object({ vitals: Count, labs: Count })),
  notes: Type.Array(
    stamped({
      length: Count,
      words: Count,
      avgWordLength: orNone(Type.Number({ minimum: 0 })),
      affirmed: Type.Integer(),
      negated: Type.Integer(),
      count: Type.Optional(Type.Integer({ minimum: 1 })),
    }),
  ),
});

const check = TypeCompiler.Compile(RestoredFacts);

/** Throws naming the first field of a restored state that no event could have put there. */
export function checkRestoredFacts(state: unknown): void {
  if (check.Check(state)) return;
  const first = check.Errors(state).First();
  throw new Error(`patient state: ${first ? `${first.path || '/'} ${first.message}` : 'not a state'}`);
}

/** Throws unless every time in `times` is an event time. */
export function checkRestoredTimes(times: Float64Array, what: string): void {
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    if (!(t >= EARLIEST_TIME_MS && t <= LATEST_TIME_MS)) throw new Error(`patient state: ${what} holds a time that is no event time (${t})`);
  }
}
