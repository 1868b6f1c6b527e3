// The repository's layering rules (.dependency-cruiser.cjs, run by `npm run lint`): they
// hold on the real tree, and each one fires on a tree that breaks it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cruise, type ICruiseResult, type IConfiguration } from 'dependency-cruiser';
import { afterAll, describe, expect, it } from 'vitest';
import { findRepoRoot } from '../src/services.js';

const root = findRepoRoot();
const require = createRequire(import.meta.url);
const config = require(join(root, '.dependency-cruiser.cjs')) as IConfiguration;
const violations = (result: ICruiseResult) => result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();

describe('layering (.dependency-cruiser.cjs)', () => {
  const fixture = mkdtempSync(join(tmpdir(), 'layering-'));
  afterAll(() => rmSync(fixture, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(fixture, path)), { recursive: true });
    writeFileSync(join(fixture, path), text);
  };

  it('holds on the repository', async () => {
    const cwd = process.cwd();
    process.chdir(root);
    try {
      const { output } = await cruise(['packages/*/src', 'services/*/src', 'apps/*/src', 'tools/*/src'], config.options ?? {}, undefined, {
        tsConfig: { fileName: 'tsconfig.depcruise.json' },
      });
      expect(violations(output as ICruiseResult)).toEqual([]);
    } finally {
      process.chdir(cwd);
    }
  });

  it('refuses a library on a tool, a service on a service or on an app, and a cycle', async () => {
    write('tools/kafka/src/index.js', 'export const broker = 1;\n');
    write('apps/launcher/src/index.js', 'export const launch = 1;\n');
    write('packages/lib/src/index.js', "import { broker } from '../../../tools/kafka/src/index.js';\nexport const lib = broker;\n");
    write('services/a/src/index.js', "import { b } from '../../b/src/index.js';\nimport { launch } from '../../../apps/launcher/src/index.js';\nexport const a = b + launch;\n");
    write('services/b/src/index.js', "import { lib } from '../../../packages/lib/src/index.js';\nexport const b = lib;\n");
    write('packages/cyc/src/one.js', "import { two } from './two.js';\nexport const one = () => two;\n");
    write('packages/cyc/src/two.js', "import { one } from './one.js';\nexport const two = () => one;\n");
    const cwd = process.cwd();
    process.chdir(fixture);
    try {
      const { tsConfig: _ignored, ...options } = config.options ?? {};
      const { output } = await cruise(['packages', 'services', 'apps', 'tools'], { ...options, ruleSet: { forbidden: config.forbidden ?? [] }, validate: true });
      const found = violations(output as ICruiseResult);
      expect(found).toContain('runtime-on-tools: packages/lib/src/index.js → tools/kafka/src/index.js');
      expect(found).toContain('library-above-itself: packages/lib/src/index.js → tools/kafka/src/index.js');
      expect(found).toContain('service-on-service: services/a/src/index.js → services/b/src/index.js');
      expect(found).toContain('service-on-apps: services/a/src/index.js → apps/launcher/src/index.js');
      expect(found.filter((v) => v.startsWith('no-circular:')).length).toBeGreaterThan(0);
      // A service on a library is the allowed direction.
      expect(found.some((v) => v.includes('services/b/src/index.js →'))).toBe(false);
    } finally {
      process.chdir(cwd);
    }
  });
});
