// An alert policy is data: one JSON document, validated against this schema, so a ward can
// change when it is alerted without a release, and the replay can judge any policy file
// on real patients before it goes live.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compileValidator, SeverityBand } from '@ehr/features';
import { Type, type Static } from '@sinclair/typebox';

const Hours = (description: string) => Type.Number({ exclusiveMinimum: 0, maximum: 48, description });

export const AlertPolicy = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' }),
    version: Type.String({ minLength: 1, maxLength: 32 }),
    description: Type.String({ maxLength: 4000 }),
    tunedFor: Type.Optional(
      Type.Object(
        { name: Type.String({ minLength: 1, maxLength: 128 }), version: Type.String({ minLength: 1, maxLength: 64 }) },
        { additionalProperties: false, description: "the model whose probabilities `enter` and `exit` are (a probability threshold means nothing for another model): alerting warns when scores come from another" },
      ),
    ),
    deterioration: Type.Object(
      {
        signal: Type.Union([Type.Literal('probability'), Type.Literal('news2')], { description: "what the thresholds apply to: the model's probability or the NEWS2 total" }),
        enter: Type.Number({ minimum: 0, maximum: 20, description: 'a score at or above this counts towards raising an alert' }),
        exit: Type.Number({ minimum: 0, maximum: 20, description: 'an alert episode ends when the signal falls below this (hysteresis: exit ≤ enter)' }),
        persistence: Type.Integer({ minimum: 1, maximum: 24, description: 'consecutive scores at or above enter before an alert is raised' }),
        reAlert: Type.Object(
          {
            rise: Type.Union([Type.Number({ exclusiveMinimum: 0, maximum: 20 }), Type.Null()], {
              description: 'a new alert during an episode (or within withinHours of the last one) needs the signal this far above the last alert; null: never during an episode',
            }),
            withinHours: Type.Number({ minimum: 0, maximum: 720, description: 'after an alert, how long a new episode also needs that further rise' }),
          },
          { additionalProperties: false },
        ),
        news2Floor: Type.Union(
          [Type.Object({ enter: Type.Integer({ minimum: 1, maximum: 20 }), exit: Type.Integer({ minimum: 0, maximum: 20 }) }, { additionalProperties: false }), Type.Null()],
          { description: 'NEWS2 at or above enter counts as above whatever the signal says (also with no model); null: the signal alone' },
        ),
      },
      { additionalProperties: false },
    ),
    budget: Type.Object(
      {
        perUnitPerDay: Type.Union([Type.Integer({ minimum: 1, maximum: 100_000 }), Type.Null()], { description: 'most deterioration alerts a unit gets per calendar day; null: no budget' }),
        timeZone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone whose calendar days the budget counts' }),
        highBypasses: Type.Boolean({ description: 'a high-severity alert is raised even when the budget is spent (it still counts)' }),
      },
      { additionalProperties: false },
    ),
    escalation: Type.Object(
      {
        afterMinutes: Type.Number({ exclusiveMinimum: 0, maximum: 1440, description: 'an alert still unacknowledged this long after it was raised escalates' }),
        severities: Type.Array(SeverityBand, { uniqueItems: true, maxItems: 3, description: 'severities that escalate' }),
      },
      { additionalProperties: false },
    ),
    overdue: Type.Object(
      {
        enabled: Type.Boolean(),
        graceMinutes: Type.Number({ minimum: 0, maximum: 240, description: 'how late a set of observations may be before it is flagged' }),
        intervalHours: Type.Object(
          {
            news2Zero: Hours('NEWS2 0 (RCP: at least every 12 h)'),
            news2Low: Hours('NEWS2 1–4 (RCP: every 4–6 h)'),
            singleParameterThree: Hours('a single parameter scoring 3, total under 5 (RCP: at least hourly)'),
            news2Medium: Hours('NEWS2 5–6 (RCP: at least hourly)'),
            news2High: Hours('NEWS2 ≥ 7 (RCP: continuous monitoring; we can only see charted values)'),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
    staleAfterHours: Type.Number({ exclusiveMinimum: 0, maximum: 720, description: 'a patient with no score for this long has left: open alerts resolve as stale' }),
  },
  { $id: 'alert_policy.v1', additionalProperties: false },
);
export type AlertPolicy = Static<typeof AlertPolicy>;

export class PolicyError extends Error {
  constructor(
    message: string,
    readonly problems: readonly string[],
  ) {
    super(message);
    this.name = 'PolicyError';
  }
}

const validator = compileValidator(AlertPolicy, 'alert policy');

function knownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The schema, then the rules a schema cannot say (exit ≤ enter, a probability ≤ 1, a real time zone). */
export function validatePolicy(value: unknown, label = 'policy'): AlertPolicy {
  const checked = validator.validate(value);
  if (!checked.ok) throw new PolicyError(`${label}: ${checked.error}`, checked.issues.map((i) => `${i.path}: ${i.message}`));
  const p = checked.value;
  const problems: string[] = [];
  const d = p.deterioration;
  if (d.exit > d.enter) problems.push(`deterioration.exit (${d.exit}) must not be above deterioration.enter (${d.enter})`);
  if (d.signal === 'probability' && d.enter > 1) problems.push(`deterioration.enter (${d.enter}) is a probability: at most 1`);
  if (d.news2Floor && d.news2Floor.exit > d.news2Floor.enter) problems.push(`deterioration.news2Floor.exit must not be above its enter`);
  if (!knownTimeZone(p.budget.timeZone)) problems.push(`budget.timeZone: unknown time zone '${p.budget.timeZone}'`);
  if (problems.length > 0) throw new PolicyError(`${label}: ${problems.join('; ')}`, problems);
  return p;
}

/** The policies shipped with this package (JSON files in policies/). */
export const SHIPPED_POLICIES = ['default', 'default-3000', 'news2-ge5', 'news2-ge7'] as const;
export type ShippedPolicy = (typeof SHIPPED_POLICIES)[number];

export const isShippedPolicy = (name: string): name is ShippedPolicy => SHIPPED_POLICIES.some((p) => p === name);

/** Where a shipped policy's file is (beside src/ and dist/ alike). */
export const shippedPolicyPath = (name: ShippedPolicy): string => fileURLToPath(new URL(`../policies/${name}.json`, import.meta.url));

/**
 * The shipped policy tuned for this model (its `tunedFor`), if one is: `npm start` serves a
 * 3,000-stay default model, and `default`'s thresholds are the full model's probabilities.
 */
export function shippedPolicyFor(model: { name: string; version: string }): ShippedPolicy | null {
  for (const name of SHIPPED_POLICIES) {
    const tuned = loadPolicySync(name).tunedFor;
    if (tuned && tuned.name === model.name && tuned.version === model.version) return name;
  }
  return null;
}

/** A policy file, or a shipped policy by name ('default', 'default-3000', 'news2-ge5', 'news2-ge7'). */
export async function loadPolicy(pathOrName: string): Promise<AlertPolicy> {
  const path = isShippedPolicy(pathOrName) ? shippedPolicyPath(pathOrName) : pathOrName;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new PolicyError(`cannot read policy ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, []);
  }
  return parsePolicy(text, path);
}

/** The same, synchronously: a service reads its policy while it is assembled, so a bad one stops the start. */
export function loadPolicySync(pathOrName: string): AlertPolicy {
  const path = isShippedPolicy(pathOrName) ? shippedPolicyPath(pathOrName) : pathOrName;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PolicyError(`cannot read policy ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, []);
  }
  return parsePolicy(text, path);
}

function parsePolicy(text: string, path: string): AlertPolicy {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new PolicyError(`policy ${path} is not JSON: ${err instanceof Error ? err.message : String(err)}`, []);
  }
  return validatePolicy(value, `policy ${path}`);
}
