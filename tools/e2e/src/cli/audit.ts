#!/usr/bin/env node
// npm run audit:prod -w tools/e2e: the production dependency audit, with the exceptions
// of audit-exceptions.json. Exit 1 on an unexplained high or critical advisory, 2 when the
// registry cannot audit.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exceptionsFile, readExceptions, runAudit, unexplained } from '../audit.js';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const root = join(packageDir, '..', '..');
const result = runAudit(root);
if (result.status === 'unavailable') {
  process.stdout.write(`npm audit --omit=dev: the registry could not audit (${result.reason}); nothing was checked\n`);
  process.exit(2);
}
const exceptions = readExceptions(exceptionsFile(packageDir));
const bySeverity = new Map<string, number>();
for (const f of result.findings) bySeverity.set(f.severity, (bySeverity.get(f.severity) ?? 0) + 1);
process.stdout.write(
  `npm audit --omit=dev: ${result.findings.length} vulnerable packages (${[...bySeverity].map(([s, n]) => `${s} ${n}`).join(', ') || 'none'}) in ${result.dependencies ?? '?'} production dependencies\n`,
);
for (const f of result.findings.filter((x) => x.severity === 'high' || x.severity === 'critical')) {
  process.stdout.write(`  ${f.severity} ${f.name}: ${f.via.join('; ')}${exceptions[f.name] ? ` — explained: ${exceptions[f.name]}` : ' — NOT EXPLAINED'}\n`);
}
process.exit(unexplained(result.findings, exceptions).length > 0 ? 1 : 0);
