// Is this document a model artifact we can serve? The TypeBox schema checks every field;
// the few rules that span fields (sizes that must agree, orders, the hash) follow. Each
// problem reads "json.path: what is wrong", so a person can fix a file by hand.
import { TypeGuard, type TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import { MISSING_SENTINEL } from '../missing.js';
import { contentHashOf, decodeForest } from './encoding.js';
import { ARTIFACT_SCHEMA_VERSION, ModelArtifactSchema, type ModelArtifact } from './schema.js';

export class ArtifactError extends Error {
  readonly problems: string[];
  /** The file system's code when the file could not be read (`ENOENT`: there is no model, rather than a bad one). */
  readonly code: string | undefined;
  constructor(where: string, problems: string[], code?: string) {
    super(`invalid model artifact ${where}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ArtifactError';
    this.problems = problems;
    this.code = code;
  }
}

/** `/forest/nTrees` → `forest.nTrees`; `/featureNames/3` → `featureNames[3]`. */
const dotted = (pointer: string) => (pointer === '' ? '$' : pointer.slice(1).split('/').map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join(''));

function literalsOf(schema: TSchema): string[] | null {
  if (TypeGuard.IsLiteral(schema)) return [JSON.stringify(schema.const).replace(/"/g, "'")];
  if (TypeGuard.IsUnion(schema)) {
    const all = schema.anyOf.map(literalsOf);
    return all.every((l): l is string[] => l !== null) ? all.flat() : null;
  }
  return null;
}

const kind = (schema: TSchema): string =>
  TypeGuard.IsInteger(schema) ? 'a whole number' : TypeGuard.IsNumber(schema) ? 'a number' : TypeGuard.IsString(schema) ? 'a string' : TypeGuard.IsArray(schema) ? 'an array' : TypeGuard.IsObject(schema) ? 'an object' : 'a value';

function describe(e: ValueError): string {
  const got = JSON.stringify(e.value);
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return `expected ${kind(e.schema)}`;
    case ValueErrorType.Literal:
    case ValueErrorType.Union: {
      const options = literalsOf(e.schema);
      if (e.path === '/schemaVersion') return `this reader understands version ${ARTIFACT_SCHEMA_VERSION}, got ${got}`;
      return options ? `expected ${options.join(' or ')}, got ${got}` : `does not match any allowed shape (got ${got?.slice(0, 80)})`;
    }
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return `must be >= ${String(e.schema.minimum)}, got ${got}`;
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return `must be <= ${String(e.schema.maximum)}, got ${got}`;
    case ValueErrorType.NumberExclusiveMinimum:
      return `must be > ${String(e.schema.exclusiveMinimum)}, got ${got}`;
    case ValueErrorType.StringPattern:
      return `'${String(e.value)}' does not match ${String(e.schema.pattern)}`;
    case ValueErrorType.StringMinLength:
      return 'expected a non-empty string';
    case ValueErrorType.StringMaxLength:
      return `expected at most ${String(e.schema.maxLength)} characters, got ${String(e.value).length}`;
    case ValueErrorType.ArrayMinItems:
      return `expected at least ${String(e.schema.minItems)} values`;
    case ValueErrorType.Integer:
      return `expected a whole number, got ${got}`;
    default:
      return `expected ${kind(e.schema)}, got ${got === undefined ? 'nothing' : got.slice(0, 80)}`;
  }
}

/** What the schema cannot say: sizes that must agree, orders, the sentinel, the hash prefix. */
function crossFieldProblems(a: ModelArtifact): string[] {
  const p: string[] = [];
  const nF = a.featureNames.length;
  if (new Set(a.featureNames).size !== nF) p.push('featureNames: names must be unique');
  if (Number.isNaN(Date.parse(a.createdAt))) p.push(`createdAt: '${a.createdAt}' is not a date`);
  if (a.missing.sentinel !== MISSING_SENTINEL) p.push(`missing.sentinel: expected ${MISSING_SENTINEL}, got ${a.missing.sentinel}`);
  if (a.forest.nFeatures !== nF) p.push(`forest.nFeatures: ${a.forest.nFeatures} features, featureNames has ${nF}`);
  if (a.forest.nTrees !== a.hyperparameters.nTrees) p.push(`forest.nTrees: ${a.forest.nTrees} trees, hyperparameters.nTrees is ${a.hyperparameters.nTrees}`);
  if (a.featureImportance.length !== nF) p.push(`featureImportance: expected ${nF} values, got ${a.featureImportance.length}`);
  const cal = a.calibration;
  if (cal.method === 'isotonic') {
    if (cal.x.length !== cal.y.length) p.push('calibration: x and y must be non-empty and of equal length');
    for (let i = 1; i < cal.x.length; i++) {
      if (!(cal.x[i]! >= cal.x[i - 1]!)) p.push(`calibration.x[${i}]: x must be non-decreasing`);
      if (!(cal.y[i]! >= cal.y[i - 1]!)) p.push(`calibration.y[${i}]: y must be non-decreasing`);
    }
  }
  // A calibration must keep the forest's order: a falling one reports the sickest as the calmest.
  if (cal.method === 'platt' && !(cal.a > 0)) p.push(`calibration.a: ${cal.a} must be above 0 (a Platt slope at or below 0 reverses or flattens the risk order)`);
  if (a.bands && a.bands.high < a.bands.medium) p.push(`bands: high (${a.bands.high}) is below medium (${a.bands.medium})`);
  if (a.trainingDistribution.length !== nF) p.push(`trainingDistribution: expected ${nF} features, got ${a.trainingDistribution.length}`);
  a.trainingDistribution.forEach((d, i) => {
    if (d.proportions.length !== d.edges.length + 1) p.push(`trainingDistribution[${i}].proportions: expected ${d.edges.length + 1} values, got ${d.proportions.length}`);
    if (d.feature !== a.featureNames[i]) p.push(`trainingDistribution[${i}].feature: expected '${String(a.featureNames[i])}', got '${d.feature}'`);
  });
  if (p.length === 0 && !a.contentHash.startsWith(a.version)) p.push(`version: '${a.version}' is not a prefix of contentHash`);
  return p;
}

/**
 * Checks that `doc` is a well-formed artifact of this schema version. Returns the list of
 * problems, each "json.path: what is wrong" (empty when valid).
 */
export function artifactProblems(doc: unknown): string[] {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return ['$: expected a JSON object'];
  const problems: string[] = [];
  collect(ModelArtifactSchema, doc, '', problems, new Set());
  return problems.length > 0 ? problems.slice(0, MAX_PROBLEMS) : crossFieldProblems(doc as ModelArtifact);
}

/** Problems told at most: a file of a million bad values is refused as quickly as one of fifty. */
const MAX_PROBLEMS = 50;

/** Whether `path` or a place above it (`/a` of `/a/3`) was already told. */
function toldAbove(path: string, seen: ReadonlySet<string>): boolean {
  for (let at = path.indexOf('/', 1); at > 0; at = path.indexOf('/', at + 1)) if (seen.has(path.slice(0, at))) return true;
  return seen.has(path);
}

/** The property every branch of a union of objects fixes to a literal (`method` of a calibration). */
function discriminator(branches: readonly TSchema[]): string | null {
  const first = branches[0];
  if (!first || !TypeGuard.IsObject(first)) return null;
  return Object.keys(first.properties).find((k) => branches.every((b) => TypeGuard.IsObject(b) && b.properties[k] !== undefined && TypeGuard.IsLiteral(b.properties[k]))) ?? null;
}

/** The branch of a union meant for this value: by its discriminator, else the one of its JSON kind. */
function branchFor(schema: TSchema, value: unknown): TSchema | { problem: string; at: string } | null {
  if (!TypeGuard.IsUnion(schema)) return null;
  const objects = schema.anyOf.filter((b) => TypeGuard.IsObject(b));
  const key = value !== null && typeof value === 'object' && !Array.isArray(value) ? discriminator(objects) : null;
  if (key) {
    const given = (value as Record<string, unknown>)[key];
    const match = objects.find((b) => TypeGuard.IsObject(b) && (b.properties[key] as { const?: unknown }).const === given);
    if (match) return match;
    const options = objects.map((b) => `'${String((b as { properties: Record<string, { const?: unknown }> }).properties[key]!.const)}'`);
    return { at: `/${key}`, problem: `expected ${options.join(' or ')}, got ${JSON.stringify(given)}` };
  }
  const wants = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  const fits = schema.anyOf.filter((b) => (TypeGuard.IsObject(b) ? wants === 'object' : TypeGuard.IsArray(b) || TypeGuard.IsTuple(b) ? wants === 'array' : false));
  return fits.length === 1 ? fits[0]! : null;
}

/** One problem per place; a union's failure is told in the terms of the branch the value was meant for. */
function collect(schema: TSchema, value: unknown, prefix: string, problems: string[], seen: Set<string>): void {
  // Value.Errors is lazy: stopping at the cap stops the walk, and each error costs the depth of
  // its path (not a scan of every place told before, which made a long bad array quadratic).
  for (const e of Value.Errors(schema, value)) {
    if (problems.length >= MAX_PROBLEMS) return;
    const path = prefix + e.path;
    if (toldAbove(path, seen)) continue;
    const branch = e.type === ValueErrorType.Union ? branchFor(e.schema, e.value) : null;
    if (branch && 'problem' in branch) problems.push(`${dotted(path + branch.at)}: ${branch.problem}`);
    else if (branch) collect(branch, e.value, path, problems, seen);
    else problems.push(`${dotted(path)}: ${describe({ ...e, path })}`);
    seen.add(path);
  }
}

/** Validates structure, content hash and (unless told not to) the forest; returns the artifact typed. */
export function validateArtifact(doc: unknown, where = '(in memory)', options: { checkForest?: boolean } = {}): ModelArtifact {
  const problems = artifactProblems(doc);
  if (problems.length > 0) throw new ArtifactError(where, problems);
  const a = doc as ModelArtifact;
  const hash = contentHashOf(a);
  if (hash !== a.contentHash) {
    throw new ArtifactError(where, [`contentHash: the file says ${a.contentHash} but its content hashes to ${hash} (edited or corrupted)`]);
  }
  if (options.checkForest ?? true) {
    try {
      decodeForest(a.forest);
    } catch (err) {
      throw new ArtifactError(where, [(err as Error).message]);
    }
  }
  return a;
}
