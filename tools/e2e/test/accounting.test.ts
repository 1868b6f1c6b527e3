// The accounting every end-to-end and fault test relies on: each raw record is exactly one
// of scored, dead-lettered or duplicate, and every kind of mismatch is named.
import { describe, expect, it } from 'vitest';
import { account, type DeadLetterRowLite, type InputRecord, type ScoreRowLite } from '../src/accounting.js';

const EVENTS = 'ehr.events.v1';
const rec = (partition: number, offset: number, eventId: string | null): InputRecord => ({ partition, offset: String(offset), eventId, timestamp: 0 });
const score = (eventId: string, scoreId = `s-${eventId}`): ScoreRowLite => ({ scoreId, eventId, featureEventId: `f-${eventId}` });
const letter = (partition: number, offset: number, reason = 'schema_invalid', id = `d-${partition}-${offset}`): DeadLetterRowLite => ({
  deadLetterId: id,
  service: 'feature',
  reason,
  sourceTopic: EVENTS,
  sourcePartition: partition,
  sourceOffset: String(offset),
  originalEventId: null,
  originalBytes: null,
});
const downstream = (trigger: string): DeadLetterRowLite => ({
  deadLetterId: `dd-${trigger}`,
  service: 'scoring',
  reason: 'schema_invalid',
  sourceTopic: 'ehr.features.v1',
  sourcePartition: 0,
  sourceOffset: '9',
  originalEventId: `f-${trigger}`,
  originalBytes: Buffer.from(JSON.stringify({ payload: { triggerEventId: trigger } })).toString('base64'),
});
const run = (records: InputRecord[], scores: ScoreRowLite[], letters: DeadLetterRowLite[]) => account(records, scores, letters, { eventsTopics: [EVENTS] });

describe('account', () => {
  it('splits records into scored, dead-lettered and duplicates, exactly', () => {
    const a = run([rec(0, 0, 'a'), rec(0, 1, 'b'), rec(0, 2, 'a'), rec(1, 0, null), rec(1, 1, 'c')], [score('a'), score('b')], [letter(1, 0, 'unparseable'), downstream('c')]);
    expect(a.problems).toEqual([]);
    expect([a.published, a.scored, a.deadLettered, a.duplicates]).toEqual([5, 2, 2, 1]);
    expect(a.deadLettersByReason).toEqual({ 'feature/unparseable': 1, 'scoring/schema_invalid': 1 });
    expect(a.outcomes.get('0:2')).toBe('duplicate');
    expect(a.outcomes.get('1:1')).toBe('dead_lettered');
  });

  it('takes offset order within a partition, whatever order the records come in', () => {
    const a = run([rec(0, 10, 'a'), rec(0, 9, 'a')], [score('a')], []);
    expect(a.outcomes.get('0:9')).toBe('scored');
    expect(a.outcomes.get('0:10')).toBe('duplicate');
  });

  it('lets a later record of a dead-lettered event be the one scored', () => {
    const a = run([rec(0, 0, 'a'), rec(0, 1, 'a')], [score('a')], [letter(0, 0, 'late_event')]);
    expect(a.problems).toEqual([]);
    expect([a.scored, a.deadLettered, a.duplicates]).toEqual([1, 1, 0]);
  });

  it('names a record with no outcome', () => {
    const a = run([rec(0, 0, 'a'), rec(0, 1, 'b'), rec(0, 2, null)], [score('a')], []);
    expect(a.problems.map((p) => p.kind)).toEqual(['unaccounted', 'unaccounted']);
  });

  it('names duplicate rows: a score_id twice, an event scored twice, a source dead-lettered twice, a dead_letter_id twice', () => {
    const a = run(
      [rec(0, 0, 'a'), rec(0, 1, 'b'), rec(0, 2, null)],
      [score('a', 's1'), score('b', 's1'), score('a', 's2')],
      [letter(0, 2, 'unparseable', 'x'), letter(0, 2, 'unparseable', 'x')],
    );
    expect(new Set(a.problems.map((p) => p.kind))).toEqual(new Set(['duplicate_score_id', 'event_scored_twice', 'duplicate_dead_letter_id', 'source_dead_lettered_twice']));
  });

  it('names rows that trace to nothing published, and a record both scored and dead-lettered', () => {
    expect(run([rec(0, 0, 'a')], [score('a'), score('zzz')], []).problems.map((p) => p.kind)).toEqual(['score_without_input']);
    expect(run([rec(0, 0, 'a')], [score('a')], [letter(3, 7)]).problems.map((p) => p.kind)).toEqual(['dead_letter_without_input']);
    expect(run([rec(0, 0, 'a')], [score('a')], [letter(0, 0)]).problems.map((p) => p.kind)).toEqual(['score_without_input']);
    expect(run([rec(0, 0, 'a')], [score('a')], [downstream('a')]).problems.map((p) => p.kind)).toEqual(['scored_and_dead_lettered']);
  });

  it('caps the listed problems per kind but keeps counting', () => {
    const records = Array.from({ length: 30 }, (_, i) => rec(0, i, `e${i}`));
    const a = account(records, [], [], { eventsTopics: [EVENTS], maxProblemsPerKind: 5 });
    expect(a.problems).toHaveLength(6);
    expect(a.problems[5]!.detail).toContain('25 more');
  });
});
