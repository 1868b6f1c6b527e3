import { describe, expect, it } from 'vitest';
import { problemText } from '../src/cli/problem-text.js';

describe('produce CLI error lines', () => {
  it('prints a problem as its title, detail and first invalid event', () => {
    const body = JSON.stringify({
      type: 'tag:ehr-pipeline,2026:problem:invalid-events',
      title: 'Some events are invalid; none were accepted',
      status: 400,
      detail: '1 of 2 events are invalid; none were accepted',
      errors: [{ index: 1, reason: 'schema_invalid', issues: [{ path: 'payload.value', message: 'Expected number' }] }],
    });
    expect(problemText(body)).toBe(
      'Some events are invalid; none were accepted (1 of 2 events are invalid; none were accepted); first: {"index":1,"reason":"schema_invalid","issues":[{"path":"payload.value","message":"Expected number"}]}',
    );
  });

  it('prints anything else as it came, cut short', () => {
    expect(problemText('x'.repeat(600))).toHaveLength(500);
    expect(problemText('{"error":"old"}')).toBe('{"error":"old"}');
  });
});
