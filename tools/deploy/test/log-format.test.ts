import { describe, expect, it } from 'vitest';
import { formatLogLine, formatValue, parseLogRecord } from '../src/log-format.js';

const line = (record: Record<string, unknown>) => JSON.stringify({ level: 'info', time: '2026-01-02T12:00:01.250Z', service: 'feature', ...record });
const opts = { utc: true, serviceWidth: 9 };

describe('formatLogLine', () => {
  it('writes time, service, level and message, then the other fields as key=value', () => {
    const out = formatLogLine('feature', line({ msg: 'consumer joined', group: 'feature-service', partitions: 6, paused: false }), opts);
    expect(out).toBe('12:00:01 feature   INFO   consumer joined group=feature-service partitions=6 paused=false');
  });

  it('quotes strings with spaces and writes objects as compact JSON', () => {
    const out = formatLogLine('sink', line({ msg: 'flushed', warehouse: 'duckdb /tmp/w.duckdb', offsets: { 0: '12' }, empty: '' }), opts);
    expect(out).toContain('warehouse="duckdb /tmp/w.duckdb"');
    expect(out).toContain('offsets={"0":"12"}');
    expect(out).toContain('empty=""');
  });

  it('leaves out pid, hostname and the service field the prefix already shows', () => {
    const out = formatLogLine('feature', line({ msg: 'x', pid: 1, hostname: 'h' }), opts);
    expect(out).not.toMatch(/pid=|hostname=|service=/);
  });

  it('shows an error inline and its stack frames below for error records', () => {
    const err = { type: 'Error', message: 'broker down', stack: 'Error: broker down\n    at connect (bus.js:1:1)\n    at main (main.js:2:2)' };
    const out = formatLogLine('scoring', line({ level: 'error', msg: 'failed', err }), opts).split('\n');
    expect(out[0]).toBe('12:00:01 scoring   ERROR  failed err="Error: broker down"');
    expect(out.slice(1).map((l) => l.trim())).toEqual(['at connect (bus.js:1:1)', 'at main (main.js:2:2)']);
  });

  it('reads numeric pino levels', () => {
    expect(formatLogLine('sink', line({ level: 40, msg: 'slow' }), opts)).toContain(' WARN   slow');
  });

  it('passes a line that is not JSON through under the same prefix', () => {
    const now = () => new Date('2026-01-02T08:09:10Z');
    expect(formatLogLine('producer', '(node:12) Warning: something', { ...opts, now })).toBe('08:09:10 producer         (node:12) Warning: something');
  });

  it('colours only when asked', () => {
    const plain = formatLogLine('feature', line({ msg: 'm', a: 1 }), opts);
    const coloured = formatLogLine('feature', line({ msg: 'm', a: 1 }), { ...opts, colors: true });
    // eslint-disable-next-line no-control-regex
    expect(plain).not.toMatch(/\u001b\[/);
    // eslint-disable-next-line no-control-regex
    expect(coloured).toMatch(/\u001b\[/);
    // eslint-disable-next-line no-control-regex
    expect(coloured.replace(/\u001b\[[0-9;]*m/g, '')).toBe(plain);
  });
});

describe('parseLogRecord and formatValue', () => {
  it('accepts only JSON objects', () => {
    expect(parseLogRecord('{"msg":"x"}')).toEqual({ msg: 'x' });
    expect(parseLogRecord('[1]')).toBeNull();
    expect(parseLogRecord('{broken')).toBeNull();
    expect(parseLogRecord('plain')).toBeNull();
  });

  it('quotes what would be ambiguous', () => {
    expect(formatValue('a=b')).toBe('"a=b"');
    expect(formatValue('say "hi"')).toBe('"say \\"hi\\""');
    expect(formatValue(null)).toBe('null');
    expect(formatValue([1, 2])).toBe('[1,2]');
  });
});
