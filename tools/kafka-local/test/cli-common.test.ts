import { describe, expect, it } from 'vitest';
import { parsePort } from '../src/cli/common.js';

describe('parsePort', () => {
  it('reads the variable, falls back when unset, and names the variable when invalid', () => {
    expect(parsePort('KAFKA_PORT', 9092, {})).toBe(9092);
    expect(parsePort('KAFKA_PORT', 9092, { KAFKA_PORT: ' 19092 ' })).toBe(19092);
    expect(() => parsePort('KAFKA_PORT', 9092, { KAFKA_PORT: 'ninety' })).toThrow(/KAFKA_PORT must be a TCP port.*'ninety'/);
    expect(() => parsePort('KAFKA_PORT', 9092, { KAFKA_PORT: '70000' })).toThrow(/KAFKA_PORT/);
  });
});
