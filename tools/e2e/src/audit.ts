// `npm audit --omit=dev`: no high or critical advisory in what production installs, unless
// it is explained in audit-exceptions.json (package → why it does not apply or what is
// done about it; the README lists them). The registry may refuse audits (a mirror without
// the advisory endpoint): that is reported as unavailable, never as clean.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type Severity = 'info' | 'low' | 'moderate' | 'high' | 'critical';

export interface AuditFinding {
  name: string;
  severity: Severity;
  /** Advisory titles (or the packages it comes through). */
  via: string[];
  fixAvailable: boolean;
}

export type AuditResult =
  | { status: 'ok'; findings: AuditFinding[]; dependencies: number | null }
  | { status: 'unavailable'; reason: string };

interface NpmAuditJson {
  vulnerabilities?: Record<string, { severity?: Severity; via?: (string | { title?: string; source?: number })[]; fixAvailable?: unknown }>;
  metadata?: { dependencies?: { prod?: number; total?: number } };
  error?: { code?: string; summary?: string; detail?: string };
  message?: string;
}

/** Reads `npm audit --json` output (npm 7+ format). */
export function parseAudit(stdout: string): AuditResult {
  let parsed: NpmAuditJson;
  try {
    parsed = JSON.parse(stdout) as NpmAuditJson;
  } catch {
    return { status: 'unavailable', reason: `npm audit printed no JSON: ${stdout.slice(0, 200)}` };
  }
  if (parsed.error || (parsed.message && !parsed.vulnerabilities)) {
    const reason = [parsed.error?.code, parsed.error?.summary, parsed.message].filter((x) => typeof x === 'string' && x.trim() !== '').join(': ');
    return { status: 'unavailable', reason: reason || 'npm audit failed without a reason' };
  }
  const findings = Object.entries(parsed.vulnerabilities ?? {}).map(([name, v]) => ({
    name,
    severity: v.severity ?? 'info',
    via: (v.via ?? []).map((x) => (typeof x === 'string' ? x : (x.title ?? String(x.source)))),
    fixAvailable: Boolean(v.fixAvailable),
  }));
  return { status: 'ok', findings, dependencies: parsed.metadata?.dependencies?.prod ?? null };
}

/** Runs `npm audit --omit=dev --json` in the repository root. */
export function runAudit(root: string, timeoutMs = 120_000): AuditResult {
  const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], { cwd: root, encoding: 'utf8', timeout: timeoutMs });
  if (run.error) return { status: 'unavailable', reason: run.error.message };
  // npm audit exits 1 when it found something: the JSON says what.
  return parseAudit(run.stdout);
}

export type AuditExceptions = Record<string, string>;

export function readExceptions(file: string): AuditExceptions {
  return JSON.parse(readFileSync(file, 'utf8')) as AuditExceptions;
}

export const exceptionsFile = (packageDir: string) => join(packageDir, 'audit-exceptions.json');

/** High and critical findings that audit-exceptions.json does not explain. */
export function unexplained(findings: readonly AuditFinding[], exceptions: AuditExceptions): AuditFinding[] {
  return findings.filter((f) => (f.severity === 'high' || f.severity === 'critical') && !(exceptions[f.name] ?? '').trim());
}
