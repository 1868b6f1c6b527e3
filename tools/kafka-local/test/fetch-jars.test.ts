import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchJarsScript, packageDir } from '../src/paths.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'kafka-local-jars-'));
  dirs.push(dir);
  return dir;
};

/** fetch-jars.mjs with a PATH holding only `tools` (so java and mvn are exactly what we put there). */
function fetchJars(out: string, tools: Record<string, string> = {}) {
  const bin = tempDir();
  for (const [name, target] of Object.entries(tools)) symlinkSync(target, join(bin, name));
  return spawnSync(process.execPath, [fetchJarsScript, '--out', out], {
    encoding: 'utf8',
    env: { PATH: bin, HOME: process.env.HOME ?? '/tmp' },
  });
}

const which = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();

describe('fetch-jars.mjs', () => {
  it('does nothing, and needs neither java nor maven, when the marker matches the pom', () => {
    const out = tempDir();
    const pomSha = createHash('sha256').update(readFileSync(join(packageDir, 'pom.xml'))).digest('hex').slice(0, 16);
    writeFileSync(join(out, '.fetched.json'), JSON.stringify({ kafkaVersion: '3.9.2', pomSha, jars: 57 }));
    const run = fetchJars(out);
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/already in .*nothing to do/);
  });

  it('names the Java runtime to install when java is missing', () => {
    const run = fetchJars(join(tempDir(), 'jars'));
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/cannot run 'java'/);
    expect(run.stderr).toMatch(/Install a Java 17\+ runtime/);
  });

  it('refetches when the pom changed, and names Maven when mvn is missing', () => {
    const java = which('java');
    expect(java, 'this repository needs java on PATH').not.toBe('');
    const out = tempDir();
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, '.fetched.json'), JSON.stringify({ kafkaVersion: '3.9.0', pomSha: 'stale', jars: 1 }));
    const run = fetchJars(out, { java });
    expect(run.stderr).toMatch(/pom.xml changed since the last fetch/);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/Install Apache Maven/);
  });
});
