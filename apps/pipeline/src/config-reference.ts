// Every configuration variable of every service, read from the services' own env schemas,
// so the README's table cannot drift from what the code accepts.
import { isSecretVariable } from '@ehr/runtime';
import type { TSchema } from '@sinclair/typebox';
import { portVariableOf, SERVICES } from './services.js';

/** Variables only `npm start` (this package) reads: one port per service (each service alone reads `PORT`). */
const PIPELINE_VARIABLES: ConfigVariable[] = [
  {
    variable: 'PIPELINE_DRAIN_SECONDS',
    default: '60',
    rule: 'number ≥ 0',
    description: '`npm start` and `npm run stack`: how long Ctrl-C waits, in all, for the stages to drain in flow order (npm start then keeps what is left on disk; on Kafka it stays on the topics)',
    services: ['npm start', 'npm run stack'],
    byService: {},
  },
  {
    variable: 'PIPELINE_SPOOL_DIR',
    default: 'data/spool',
    rule: 'a directory',
    description: '`npm start`: where records not landed at a stop are kept (in-memory bus), to be resumed at the next start',
    services: ['npm start'],
    byService: {},
  },
  ...SERVICES.map((s) => ({
    variable: portVariableOf(s.name),
    default: String(s.defaultPort),
    description: `\`npm start\`: port of the ${s.name} (alone, the service reads \`PORT\`)`,
    rule: 'integer 0–65535',
    services: ['npm start'],
    byService: {},
  })),
];

export interface ConfigVariable {
  variable: string;
  /** The default when it is the same for every service that reads it. */
  default: string;
  description: string;
  /** What a value must be (type, range, length, pattern in words), and whether it is a secret. */
  rule: string;
  services: string[];
  /** Defaults that differ by service (e.g. PORT). */
  byService: Record<string, string>;
}

function describeDefault(schema: TSchema): string {
  const d = (schema as { default?: unknown }).default;
  if (d === undefined) return '(unset)';
  return typeof d === 'string' ? (d === '' ? '""' : d) : JSON.stringify(d);
}

interface SchemaFacts {
  anyOf?: SchemaFacts[];
  const?: string | number | boolean;
  type?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  rule?: string;
  secret?: boolean;
}

const num = (n: number) => String(n);

/** A number's range in words: `integer 1–65535`, `number > 0, ≤ 1 000 000`, `integer ≥ 100`. */
function describeRange(s: SchemaFacts): string {
  const kind = s.type === 'integer' ? 'integer' : 'number';
  const low = s.minimum !== undefined ? num(s.minimum) : null;
  const high = s.maximum !== undefined ? num(s.maximum) : null;
  if (low !== null && high !== null) return `${kind} ${low}–${high}`;
  const parts = [
    s.exclusiveMinimum !== undefined ? `> ${num(s.exclusiveMinimum)}` : low !== null ? `≥ ${low}` : '',
    s.exclusiveMaximum !== undefined ? `< ${num(s.exclusiveMaximum)}` : high !== null ? `≤ ${high}` : '',
  ].filter(Boolean);
  return [kind, parts.join(', ')].filter(Boolean).join(' ');
}

/** What a value must be, from its schema: one of, a range, a length, a pattern in words. */
function describeRule(schema: TSchema): string {
  const s = schema as SchemaFacts;
  if (s.rule) return s.rule;
  if (s.anyOf?.every((o) => o.const !== undefined)) return `one of ${s.anyOf.map((o) => `\`${String(o.const)}\``).join(', ')}`;
  if (s.anyOf) return s.anyOf.map((o) => (o.const !== undefined ? `\`${String(o.const)}\`` : describeRule(o as TSchema))).join(' or ');
  if (s.type === 'integer' || s.type === 'number') return describeRange(s);
  if (s.type === 'boolean') return '`true` or `false`';
  if (s.type === 'string') {
    const length = s.minLength !== undefined && s.maxLength !== undefined ? `${s.minLength}–${s.maxLength} characters` : s.minLength === 1 ? 'not empty' : s.minLength !== undefined && s.minLength > 1 ? `at least ${s.minLength} characters` : s.maxLength !== undefined ? `at most ${s.maxLength} characters` : '';
    return [length, s.pattern ? `matching \`${s.pattern}\`` : ''].filter(Boolean).join(', ') || 'text';
  }
  return '';
}

/** The rule, plus a note when the value is a secret (never logged, never shown in an error). */
function describeValue(variable: string, schema: TSchema): string {
  const rule = describeRule(schema);
  return isSecretVariable(variable, schema) ? `${rule}; secret: never logged or shown` : rule;
}

export function configReference(): ConfigVariable[] {
  const rows = new Map<string, ConfigVariable>();
  for (const { name: service, env } of SERVICES) {
    for (const [variable, schema] of Object.entries(env.properties)) {
      const def = describeDefault(schema);
      const row = rows.get(variable);
      if (row) {
        row.services.push(service);
        row.byService[service] = def;
        continue;
      }
      const description = (schema as { description?: string }).description ?? '';
      rows.set(variable, { variable, default: def, description, rule: describeValue(variable, schema), services: [service], byService: { [service]: def } });
    }
  }
  for (const row of rows.values()) {
    const defaults = new Set(Object.values(row.byService));
    if (defaults.size > 1) row.default = Object.entries(row.byService).map(([s, d]) => `${s}: ${d}`).join(', ');
  }
  return [...[...rows.values()].sort((a, b) => a.variable.localeCompare(b.variable)), ...PIPELINE_VARIABLES];
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function configReferenceMarkdown(): string {
  const everyService = SERVICES.length;
  const lines = ['| Variable | Default | Rule | Read by | What it does |', '|---|---|---|---|---|'];
  for (const row of configReference()) {
    const readBy = row.services.length === everyService ? 'every service' : row.services.join(', ');
    lines.push(`| \`${row.variable}\` | ${cell(row.default === '(unset)' ? '(unset)' : `\`${row.default}\``)} | ${cell(row.rule)} | ${readBy} | ${cell(row.description)} |`);
  }
  return lines.join('\n');
}

export const CONFIG_START = '<!-- config-reference:start (generated by `npm run docs:config`; do not edit by hand) -->';
export const CONFIG_END = '<!-- config-reference:end -->';

/** The README with its configuration table replaced by the generated one. */
export function withConfigReference(readme: string): string {
  const start = readme.indexOf(CONFIG_START);
  const end = readme.indexOf(CONFIG_END);
  if (start < 0 || end < start) throw new Error('README has no configuration reference markers');
  return `${readme.slice(0, start + CONFIG_START.length)}\n${configReferenceMarkdown()}\n${readme.slice(end)}`;
}
