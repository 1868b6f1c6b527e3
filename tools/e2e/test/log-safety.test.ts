import { describe, expect, it } from 'vitest';
import { findLeaks, idNeedles, secretNeedles } from '../src/log-safety.js';

describe('findLeaks', () => {
  const needles = [...idNeedles([{ patientId: 'S9-00001', encounterId: 'S9-00001-E1' }]), ...secretNeedles(['hunter2-secret'])];

  it('finds ids and secrets anywhere in a line, and masks them in what it reports', () => {
    const leaks = findLeaks(
      [
        { service: 'feature', line: '{"msg":"batch","count":3}' },
        { service: 'sink', line: '{"msg":"row","patient":"S9-00001"}' },
        { service: 'scoring', line: 'encounter S9-00001-E1 and token hunter2-secret' },
      ],
      needles,
    );
    expect(leaks).toEqual([
      { service: 'sink', kinds: ['patient_id'], masked: '{"msg":"row","patient":"<patient_id>"}' },
      { service: 'scoring', kinds: ['secret', 'encounter_id'], masked: 'encounter <encounter_id> and token <secret>' },
    ]);
    expect(JSON.stringify(leaks)).not.toContain('hunter2');
  });

  it('ignores needles too short to mean anything', () => {
    expect(findLeaks([{ service: 'sink', line: 'abc' }], [{ kind: 'secret', value: 'ab' }])).toEqual([]);
  });
});
