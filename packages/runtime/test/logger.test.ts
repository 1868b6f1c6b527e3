import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/index.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, logger: createLogger({ service: 'svc', destination }) };
}

describe('redaction at any depth', () => {
  it('censors a patient id five levels down, in arrays, in child bindings and in error fields', () => {
    const { lines, logger } = capture();
    logger.info({ batch: { records: [{ event: { envelope: { patientId: 'P-DEPTH-5' } } }] } }, 'deep');
    logger.info({ a: { b: { c: { d: { e: { f: { g: { encounter_id: 'E-DEEPER' } } } } } } } }, 'deeper');
    logger.child({ request: { patientId: 'P-CHILD' } }).child({ component: 'inner' }).info('child');
    logger.error({ err: Object.assign(new Error('bad record'), { record: { patientId: 'P-ERR' } }) }, 'failed');
    logger.info({ headers: { authorization: 'Bearer s3cret-token', cookie: 'ehr_session=abc' } }, 'headers');
    const text = lines.join('\n');
    for (const secret of ['P-DEPTH-5', 'E-DEEPER', 'P-CHILD', 'P-ERR', 's3cret-token', 'ehr_session=abc']) expect(text).not.toContain(secret);
    const deep = JSON.parse(lines[0]!);
    expect(deep.batch.records[0].event.envelope.patientId).toBe('[redacted]');
    expect(JSON.parse(lines[2]!)).toMatchObject({ request: { patientId: '[redacted]' }, component: 'inner' });
    const err = JSON.parse(lines[3]!).err;
    expect(err).toMatchObject({ type: 'Error', message: 'bad record', record: { patientId: '[redacted]' } });
    expect(err.stack).toContain('bad record');
  });

  it('leaves what it logs untouched and keeps plain errors as pino writes them', () => {
    const { lines, logger } = capture();
    const event = { patientId: 'P1', nested: { key: 'P1' } };
    logger.info({ event }, 'x');
    expect(event).toEqual({ patientId: 'P1', nested: { key: 'P1' } });
    logger.error({ err: new Error('plain') }, 'y');
    expect(JSON.parse(lines[1]!).err).toMatchObject({ type: 'Error', message: 'plain' });
  });

  it('survives cycles and hostile keys', () => {
    const { lines, logger } = capture();
    const cyclic: Record<string, unknown> = { patientId: 'P-CYCLE' };
    cyclic.self = cyclic;
    logger.info({ cyclic }, 'cycle');
    logger.info(JSON.parse('{"__proto__": {"patientId": "P-PROTO"}}') as object, 'proto');
    expect(lines.join('\n')).not.toContain('P-CYCLE');
    expect(lines.join('\n')).not.toContain('P-PROTO');
    expect(({} as Record<string, unknown>).patientId).toBeUndefined();
  });
});
