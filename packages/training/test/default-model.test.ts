import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FEATURE_SET_VERSION } from '@ehr/features';
import { readModelArtifact, saveModelArtifact, sealArtifact } from '@ehr/model';
import { DEFAULT_MODEL_ARGS, ensureDefaultModel } from '../src/index.js';
import { SMALL_ARGS, tempDir } from './helpers.js';

const dir = tempDir('default');
const cli = fileURLToPath(new URL('../dist/cli/train.js', import.meta.url));

describe('default model for npm start', () => {
  it('trains when no artifact exists, with progress, and prints the npm run train command that reproduces the same bytes', async () => {
    const path = join(dir, 'model', 'severity-model.json');
    const lines: string[] = [];
    const ensured = await ensureDefaultModel({ path, say: (l) => lines.push(l), env: { SOURCE_DATE_EPOCH: '1767225600' }, args: SMALL_ARGS.filter((a) => a !== '--bootstrap' && a !== '50') });
    expect(ensured.trained).toBe(true);
    expect(lines[0]).toMatch(/^no model at .*: training the default model/);
    expect(lines.some((l) => /^default model: training…$/.test(l))).toBe(true);
    expect(lines.some((l) => /^default model: 12\/12 trees$/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith(`default model ${ensured.result!.artifact.version} saved to ${path}`))).toBe(true);
    const last = lines.at(-1)!;
    expect(last).toMatch(/^reproduce it byte for byte .*: SOURCE_DATE_EPOCH=1767225600 npm run train -- --synthetic /);
    expect(ensured.result!.artifact.createdAt).toBe('2026-01-01T00:00:00.000Z');
    const original = readFileSync(path);

    // Run the printed command's arguments through the CLI (what npm run train runs after building).
    const command = last.slice(last.indexOf('SOURCE_DATE_EPOCH='));
    const [assignment, ...rest] = command.split(' ');
    const args = rest.slice(rest.indexOf('--') + 1);
    expect(args).toContain(path);
    rmSync(path);
    execFileSync(process.execPath, [cli, ...args], { env: { ...process.env, [assignment!.split('=')[0]!]: assignment!.split('=')[1]! }, stdio: 'pipe' });
    expect(readFileSync(path).equals(original)).toBe(true);

    // An existing artifact is left alone, silently.
    const quiet: string[] = [];
    expect((await ensureDefaultModel({ path, say: (l) => quiet.push(l) })).trained).toBe(false);
    expect(quiet).toEqual([]);

    // One built for another feature set would be refused by the scoring service: it is replaced, saying why.
    const { createdAt, version: _v, contentHash: _h, ...content } = await readModelArtifact(path);
    await saveModelArtifact(path, sealArtifact({ ...content, featureSchemaVersion: '1.0.0' }, createdAt));
    const replaced: string[] = [];
    const again = await ensureDefaultModel({ path, say: (l) => replaced.push(l), env: { SOURCE_DATE_EPOCH: '1767225600' }, args: SMALL_ARGS.filter((a) => a !== '--bootstrap' && a !== '50') });
    expect(again.trained).toBe(true);
    expect(replaced[0]).toMatch(new RegExp(`built for feature set 1\\.0\\.0; the feature service serves ${FEATURE_SET_VERSION.replace(/\./g, '\\.')}: training a new default model`));
    expect(readFileSync(path).equals(original)).toBe(true);
  }, 180_000);

  it('the default arguments are a fixed-seed synthetic cohort of 100 trees', () => {
    expect(DEFAULT_MODEL_ARGS).toEqual(expect.arrayContaining(['--synthetic', '--seed', '--trees', '100']));
    expect(DEFAULT_MODEL_ARGS).not.toContain('--out');
  });
});
