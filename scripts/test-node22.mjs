#!/usr/bin/env node
// The unit tests again on Node 22 LTS, the Node the images run (npm test runs them on the
// machine's Node). The Node 22 build comes from the npm registry (node-<platform>-<arch>),
// kept in .tmp/node22; turbo's cache is skipped (its hash does not include the Node version).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const NODE_MAJOR = '22';
const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const pkg = `node-${process.platform}-${process.arch}`;
const prefix = join(root, '.tmp', `node${NODE_MAJOR}`);
const bin = join(prefix, 'node_modules', pkg, 'bin');
const say = (line) => process.stdout.write(`test:node${NODE_MAJOR}: ${line}\n`);

if (!existsSync(join(bin, 'node'))) {
  say(`installing ${pkg}@${NODE_MAJOR} from the npm registry into ${prefix}`);
  const install = spawnSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', `${pkg}@${NODE_MAJOR}`], { stdio: 'inherit' });
  if (install.status !== 0 || !existsSync(join(bin, 'node'))) {
    process.stderr.write(`test:node${NODE_MAJOR}: could not install ${pkg}@${NODE_MAJOR} (is the npm registry reachable?)\n`);
    process.exit(1);
  }
}
const env = { ...process.env, PATH: [bin, process.env.PATH].join(delimiter) };
const version = spawnSync('node', ['--version'], { env, encoding: 'utf8' }).stdout.trim();
say(`unit tests on Node ${version}`);
const turbo = join(root, 'node_modules', '.bin', 'turbo');
const run = spawnSync(turbo, ['run', 'test', '--force', '--concurrency=2', '--continue', '--output-logs=errors-only', ...process.argv.slice(2)], { cwd: root, env, stdio: 'inherit' });
process.exit(run.status ?? 1);
