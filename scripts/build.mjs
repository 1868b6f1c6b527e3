#!/usr/bin/env node
// The root commands' build (npm start, npm run train, …): every workspace's own `build`
// script (an esbuild transpile, well under a second each), run directly and in parallel,
// without turbo's banner or npm's per-workspace start-up. Type checking is `npm run
// typecheck` (and `npm test`), not part of a start. Prints nothing unless a build fails.
// A workspace whose sources are older than its last build is left alone, so a second
// command never rewrites the files a running one is using.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** `packages/*` → every folder under packages/ with a package.json. */
const folders = workspaces.flatMap((pattern) => {
  if (!pattern.endsWith('/*')) return [pattern];
  const parent = pattern.slice(0, -2);
  return readdirSync(join(root, parent), { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(root, parent, e.name, 'package.json')))
    .map((e) => `${parent}/${e.name}`);
});

const STAMP = join('dist', '.built');

/** Newest modification time of the sources a build reads (src/ and the manifest). */
function newestSource(folder) {
  let newest = statSync(join(root, folder, 'package.json')).mtimeMs;
  const src = join(root, folder, 'src');
  if (existsSync(src)) for (const f of readdirSync(src, { recursive: true, withFileTypes: true })) if (f.isFile()) newest = Math.max(newest, statSync(join(f.parentPath ?? f.path, f.name)).mtimeMs);
  return newest;
}
const upToDate = (folder) => {
  const stamp = join(root, folder, STAMP);
  return !process.argv.includes('--force') && existsSync(stamp) && statSync(stamp).mtimeMs >= newestSource(folder);
};

const jobs = folders
  .map((folder) => ({ folder, script: JSON.parse(readFileSync(join(root, folder, 'package.json'), 'utf8')).scripts?.build }))
  .filter((job) => job.script && !upToDate(job.folder));

const env = { ...process.env, PATH: [join(root, 'node_modules', '.bin'), process.env.PATH].join(delimiter) };
const run = ({ folder, script }) =>
  new Promise((done) => {
    const child = spawn('sh', ['-c', script], { cwd: join(root, folder), env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    child.on('close', (code) => done({ folder, code, output }));
  });

const started = performance.now();
const failed = [];
const queue = [...jobs];
await Promise.all(
  Array.from({ length: Math.max(1, availableParallelism()) }, async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      const started = Date.now();
      const result = await run(job);
      if (result.code !== 0) failed.push(result);
      // Stamped with the time the build began: a source saved during the build is newer.
      else {
        const stamp = join(root, job.folder, STAMP);
        writeFileSync(stamp, `${new Date(started).toISOString()}\n`);
        utimesSync(stamp, started / 1000, started / 1000);
      }
    }
  }),
);
for (const f of failed) process.stderr.write(`build failed in ${f.folder}:\n${f.output}\n`);
if (failed.length > 0) process.exit(1);
if (process.argv.includes('--verbose')) process.stdout.write(`built ${jobs.length} workspaces in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
