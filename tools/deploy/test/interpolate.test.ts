import { describe, expect, it } from 'vitest';
import { interpolate, interpolateDocument } from '../src/compose/interpolate.js';
import { parsePortSpec, publishedPorts } from '../src/compose/ports.js';

describe('interpolate (Compose rules)', () => {
  const env = { SET: 'value', EMPTY: '' };

  it.each([
    ['${SET}', 'value'],
    ['$SET/x', 'value/x'],
    ['${MISSING}', ''],
    ['${MISSING:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${EMPTY-fallback}', ''],
    ['${MISSING-fallback}', 'fallback'],
    ['${SET:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ['${MISSING:-${SET}}', 'value'],
    ['$$SET and $${SET}', '$SET and ${SET}'],
    ['a:${MISSING:-127.0.0.1}:3000', 'a:127.0.0.1:3000'],
  ])('%s → %s', (text, expected) => {
    expect(interpolate(text, env)).toBe(expected);
  });

  it('fails on a required variable with its message', () => {
    expect(() => interpolate('${MISSING:?set it please}', env)).toThrow(/MISSING.*set it please/);
    expect(() => interpolate('${EMPTY:?no}', env)).toThrow(/EMPTY/);
    expect(interpolate('${EMPTY?no}', env)).toBe('');
  });

  it('reports bad syntax instead of guessing', () => {
    expect(() => interpolate('${SET', env)).toThrow(/unclosed/);
    expect(() => interpolate('${1BAD}', env)).toThrow(/invalid interpolation/);
  });

  it('interpolates values, not keys, and names the path of a failure', () => {
    const problems: { path: string; message: string }[] = [];
    const out = interpolateDocument({ services: { a: { environment: { '${SET}': '${SET}', B: '${X:?need X}' } } } }, env, problems);
    expect(out).toEqual({ services: { a: { environment: { '${SET}': 'value', B: '${X:?need X}' } } } });
    expect(problems).toEqual([{ path: '/services/a/environment/B', message: expect.stringContaining('need X') as string }]);
  });
});

describe('port mappings', () => {
  it('reads the short syntax', () => {
    expect(parsePortSpec('127.0.0.1:3000:3000')).toEqual({ hostIp: '127.0.0.1', host: { start: 3000, end: 3000 }, container: { start: 3000, end: 3000 }, protocol: 'tcp' });
    expect(parsePortSpec('127.0.0.1::3003')?.host).toBeNull();
    expect(parsePortSpec('[::1]:8080:80/udp')).toMatchObject({ hostIp: '::1', host: { start: 8080, end: 8080 }, protocol: 'udp' });
    expect(parsePortSpec('9090-9091:8080-8081')?.host).toEqual({ start: 9090, end: 9091 });
  });

  it('refuses what Docker refuses', () => {
    for (const bad of ['abc', '70000:80', '1:2:3:4', '3000:3000/http', '9090-9092:8080-8081', '']) expect(parsePortSpec(bad), bad).toBeNull();
  });

  it('lists the fixed host ports a mapping takes', () => {
    expect(publishedPorts('127.0.0.1:3000:3000')).toEqual([{ port: 3000, protocol: 'tcp' }]);
    expect(publishedPorts('127.0.0.1::3002')).toEqual([]);
    expect(publishedPorts(3002)).toEqual([]);
    expect(publishedPorts('8000-8001:80')).toEqual([{ port: 8000, protocol: 'tcp' }, { port: 8001, protocol: 'tcp' }]);
    expect(publishedPorts({ target: 80, published: 8080, protocol: 'udp' })).toEqual([{ port: 8080, protocol: 'udp' }]);
    expect(publishedPorts({ target: 80 })).toEqual([]);
  });
});
