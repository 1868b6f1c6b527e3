// A dead letter must always be writable: one carrying a huge rejected message whole would
// exceed Kafka's message size limit and stall its source partition forever.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildDeadLetter, DEAD_LETTER_MAX_ORIGINAL_BYTES, decodeDeadLetter } from '../src/index.js';

const message = (value: Buffer) => ({ topic: 'ehr.events.v1', partition: 2, offset: '41', key: 'P1', value });
const rejection = { service: 'feature', reason: 'schema_invalid' as const, error: 'too long', issues: [{ path: 'payload.text', message: 'too long' }] };

describe('buildDeadLetter', () => {
  it('keeps a message of ordinary size exactly', () => {
    const value = Buffer.from('{"not":"an event"}');
    const letter = buildDeadLetter(message(value), rejection);
    expect(Buffer.from(letter.originalBytes, 'base64').equals(value)).toBe(true);
    expect(letter.details).toEqual([{ path: 'payload.text', message: 'too long' }]);
  });

  it('keeps only the first bytes of a huge message, saying how many there were and their hash', () => {
    const value = Buffer.alloc(900_000, 0x78);
    const letter = buildDeadLetter(message(value), rejection);
    expect(Buffer.from(letter.originalBytes, 'base64').equals(value.subarray(0, DEAD_LETTER_MAX_ORIGINAL_BYTES))).toBe(true);
    expect(letter.details[0]!.path).toBe('originalBytes');
    expect(letter.details[0]!.message).toContain('900000 bytes');
    expect(letter.details[0]!.message).toContain(createHash('sha256').update(value).digest('hex'));
    expect(letter.details[1]).toEqual({ path: 'payload.text', message: 'too long' });
    // Under Kafka's default 1 MB message limit, and still a valid dead letter.
    const encoded = JSON.stringify(letter);
    expect(Buffer.byteLength(encoded)).toBeLessThan(1_000_000);
    expect(decodeDeadLetter(encoded).ok).toBe(true);
  });
});

describe('buildDeadLetter with oversized parts', () => {
  it('clips a huge key, a huge property name in a validation path, and a long error, staying well under 1 MB', () => {
    const name = 'p'.repeat(900_000);
    const value = Buffer.from(`{"${name}":1}`);
    const key = 'k'.repeat(600_000);
    const letter = buildDeadLetter(
      { topic: 'ehr.events.v1', partition: 0, offset: '7', key, value },
      { service: 'feature', reason: 'schema_invalid', error: `invalid: ${name}`, issues: Array.from({ length: 20 }, () => ({ path: name, message: `Unexpected property ${name}` })) },
    );
    expect(Buffer.byteLength(JSON.stringify(letter))).toBeLessThan(400_000);
    expect(letter.originalKey!.length).toBe(1024);
    expect(letter.patientId!.length).toBe(256);
    expect(letter.details.map((d) => d.path).slice(0, 2)).toEqual(['originalBytes', 'originalKey']);
    expect(letter.details.every((d) => d.path.length <= 512 && d.message.length <= 512)).toBe(true);
    expect(decodeDeadLetter(JSON.stringify(letter)).ok).toBe(true);
  });
});
