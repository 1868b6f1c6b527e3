// The bench's profile conversion: .cpuprofile → folded stacks → flame graph SVG and top list.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { flameSvg, foldProfile, frameName, topSelf, topText, writeProfileReports, type CpuProfile } from '../src/bench/flame.js';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0 });

// (root) → main → { parse, score → parse }, and (idle) beside main. parse at two depths:
// its self time adds up across both; the folded stacks keep them apart.
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 6] },
    { id: 2, callFrame: frame('main', 'file:///repo/services/feature/dist/main.js', 9), children: [3, 4] },
    { id: 3, callFrame: frame('parse', 'file:///repo/node_modules/kafkajs/src/decoder.js', 41) },
    { id: 4, callFrame: frame('score', 'file:///repo/services/scoring/dist/scorer.js', 99), children: [5] },
    { id: 5, callFrame: frame('parse', 'file:///repo/node_modules/kafkajs/src/decoder.js', 41) },
    { id: 6, callFrame: frame('(idle)') },
  ],
  startTime: 0,
  endTime: 1_000,
  samples: [2, 3, 3, 4, 5, 6, 6, 6],
  timeDeltas: [100, 100, 100, 100, 100, 100, 100, 100],
};

const MAIN = 'main services/feature/dist/main.js:10';
const PARSE = 'parse kafkajs/src/decoder.js:42';
const SCORE = 'score services/scoring/dist/scorer.js:100';

describe('flame graphs from V8 CPU profiles', () => {
  it('names frames by function, short file and 1-based line', () => {
    expect(frameName(profile.nodes[1]!.callFrame)).toBe(MAIN);
    expect(frameName(profile.nodes[2]!.callFrame)).toBe(PARSE);
    expect(frameName(frame('', 'node:internal/streams', 4))).toBe('(anonymous) node:internal/streams:5');
  });

  it('folds samples into stacks weighted by their time, root first and (root) left out', () => {
    expect(Object.fromEntries(foldProfile(profile))).toEqual({
      [MAIN]: 100,
      [`${MAIN};${PARSE}`]: 200,
      [`${MAIN};${SCORE}`]: 100,
      [`${MAIN};${SCORE};${PARSE}`]: 100,
      '(idle)': 300,
    });
  });

  it('ranks self time by function across stacks, idle left out', () => {
    const top = topSelf(foldProfile(profile));
    expect(top.map((t) => [t.frame, t.us])).toEqual([
      [PARSE, 300],
      [MAIN, 100],
      [SCORE, 100],
    ]);
    expect(top[0]!.share).toBeCloseTo(0.6);
    expect(topText('feature', foldProfile(profile))).toContain('0.8 ms profiled, 0.5 ms not idle');
  });

  it('draws one rectangle per frame, widths by time, every frame named in a tooltip', () => {
    const svg = flameSvg(foldProfile(profile), 'feature <test>', 820);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('feature &lt;test&gt;');
    // all, main, parse (under main), score, parse (under score), (idle)
    expect(svg.match(/<rect x=/g)).toHaveLength(6);
    // 800 px for 800 µs: main is 500 µs wide.
    expect(svg).toMatch(new RegExp(`<title>${MAIN.replace(/[.]/g, '\\.')} \\(0\\.5 ms, 62\\.5 %\\)</title><rect x="310\\.0" y="\\d+" width="500\\.0"`));
  });

  it('writes an SVG, a top list and the folded stacks per service folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flame-'));
    try {
      mkdirSync(join(dir, 'feature'));
      writeFileSync(join(dir, 'feature', 'CPU.1.cpuprofile'), JSON.stringify(profile));
      writeFileSync(join(dir, 'feature', 'CPU.2.cpuprofile'), JSON.stringify(profile)); // restarted: both count
      expect(writeProfileReports(dir)).toEqual(['feature']);
      expect(readFileSync(join(dir, 'feature.svg'), 'utf8')).toContain('</svg>');
      expect(readFileSync(join(dir, 'feature-top.txt'), 'utf8')).toMatch(/0\.6\s+60\.0 %\s+parse/);
      expect(readFileSync(join(dir, 'feature.folded'), 'utf8')).toContain(`${MAIN};${PARSE} 400\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
