import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeRawEvent,
  deterministicId,
  MESSAGE_SCHEMAS,
  TOPICS,
  toJsonSchemaDocument,
  type VitalSignEvent,
} from '../src/index.js';

const vital: VitalSignEvent = {
  schema: 'vital_sign',
  schemaVersion: 1,
  eventId: 'evt-1',
  patientId: 'p-1',
  encounterId: 'e-1',
  occurredAt: '2026-01-01T10:00:00Z',
  producedAt: '2026-01-01T10:00:01.123Z',
  source: 'synthetic',
  payload: { kind: 'heart_rate', value: 88, unit: '/min' },
};

describe('raw event validation', () => {
  it('accepts a valid vital sign', () => {
    const r = decodeRawEvent(Buffer.from(JSON.stringify(vital)));
    expect(r.ok).toBe(true);
  });

  it('names the field path and the reason', () => {
    const r = decodeRawEvent(JSON.stringify({ ...vital, payload: { ...vital.payload, value: 'fast' } }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe('schema_invalid');
    expect(r.issues[0]).toEqual({ path: 'payload.value', message: expect.stringMatching(/number/i) });
    expect(r.error).toContain('payload.value');
  });

  it('refuses unknown vital kinds, extra fields and zone-less timestamps', () => {
    const bad = [
      { ...vital, payload: { ...vital.payload, kind: 'pulse' } },
      { ...vital, extra: 1 },
      { ...vital, occurredAt: '2026-01-01T10:00:00' },
    ];
    for (const b of bad) expect(decodeRawEvent(JSON.stringify(b)).ok).toBe(false);
  });

  it('tells an unparseable message, invalid UTF-8 and an unsupported version apart', () => {
    const notJson = decodeRawEvent('{"schema":');
    const badUtf8 = decodeRawEvent(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    const v2 = decodeRawEvent(JSON.stringify({ ...vital, schemaVersion: 2 }));
    const unknown = decodeRawEvent(JSON.stringify({ ...vital, schema: 'x_ray' }));
    expect([notJson, badUtf8, v2, unknown].map((r) => (r.ok ? 'ok' : r.reason))).toEqual([
      'unparseable',
      'unparseable',
      'unsupported_schema_version',
      'schema_invalid',
    ]);
  });
});

describe('contracts', () => {
  it('spells the four topic names once', () => {
    expect(TOPICS).toMatchObject({
      events: 'ehr.events.v1',
      features: 'ehr.features.v1',
      scores: 'ehr.scores.v1',
      deadLetter: 'ehr.deadletter.v1',
    });
  });

  it('derives the same id from the same inputs, and a different one otherwise', () => {
    expect(deterministicId('score', 'a', 1)).toBe(deterministicId('score', 'a', 1));
    expect(deterministicId('score', 'a', 1)).not.toBe(deterministicId('score', 'a1'));
    expect(deterministicId('x')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('keeps the committed JSON Schema documents in step with the code (npm run schemas -w @ehr/features)', () => {
    const dir = join(import.meta.dirname, '..', 'schemas');
    const committed = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    expect(committed).toEqual(Object.keys(MESSAGE_SCHEMAS).map((n) => `${n}.json`).sort());
    for (const [name, schema] of Object.entries(MESSAGE_SCHEMAS)) {
      const onDisk = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
      expect(onDisk, name).toEqual(toJsonSchemaDocument(name, schema));
    }
  });
});
