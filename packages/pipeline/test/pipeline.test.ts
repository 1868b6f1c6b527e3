import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { startPipeline } from '../src/index.js';

describe('npm start pipeline', () => {
  it('starts four services and the dashboard on their ports, each ready, and stops cleanly', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (_c, _e, done) => done() });
    const env = { PRODUCER_PORT: '0', FEATURE_PORT: '0', SCORING_PORT: '0', SINK_PORT: '0', DASHBOARD_PORT: '0' };
    const pipeline = await startPipeline({ env, say: (l) => lines.push(l), logDestination: sink });
    try {
      expect(lines.map((l) => l.split(':')[0])).toEqual(['producer ready', 'feature ready', 'scoring ready', 'sink ready', 'dashboard']);
      for (const line of lines.slice(0, 4)) expect(line).toMatch(/^\w+ ready: http:\/\/127\.0\.0\.1:\d+\/health\/ready$/);
      expect(lines[4]).toMatch(/^dashboard: http:\/\/127\.0\.0\.1:\d+\/$/);
      for (const url of Object.values(pipeline.urls)) {
        const r = await fetch(`${url}/health/ready`);
        expect(r.status).toBe(200);
        expect(((await r.json()) as { status: string }).status).toBe('ready');
      }
    } finally {
      await pipeline.stop();
    }
  });
});
