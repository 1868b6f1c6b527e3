// `event_id` in severity_scores names the raw event a score traces back to (the
// architecture's intent), so the warehouse can account for every input event.
import { TOPICS } from '@ehr/features';
import { describe, expect, it } from 'vitest';
import { scoreRow } from '../src/index.js';
import { makeScore } from './helpers.js';

const record = { topic: TOPICS.scores, partition: 0, offset: '7', timestamp: 0 };

describe('scoreRow: event_id', () => {
  it('is the raw event that triggered the score', () => {
    const event = makeScore(1);
    event.payload.triggerEventId = '0a1b2c3d-0000-8000-8000-000000000001';
    const row = scoreRow('c', record, event);
    expect(row.eventId).toBe('0a1b2c3d-0000-8000-8000-000000000001');
    expect(row.scoreId).toBe(event.payload.scoreId);
    expect(row.featureEventId).toBe(event.payload.featureEventId);
  });

  it("falls back to the score's own id for scores without a trigger", () => {
    const event = makeScore(2);
    delete event.payload.triggerEventId;
    expect(scoreRow('c', record, event).eventId).toBe(event.eventId);
  });
});
