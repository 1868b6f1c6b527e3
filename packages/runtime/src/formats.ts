// String formats checked by code rather than a pattern (TypeBox's FormatRegistry), each able
// to say why a value fails, so that a configuration error names the part to fix.
import { FormatRegistry } from '@sinclair/typebox';

/** Why a value does not have the format, or null when it does. */
export type FormatProblem = (value: string) => string | null;

const problems = new Map<string, FormatProblem>();

/** Registers `name` for `Type.String({ format: name })`; returns the name. */
export function defineFormat(name: string, problem: FormatProblem): string {
  FormatRegistry.Set(name, (value) => problem(value) === null);
  problems.set(name, problem);
  return name;
}

/** Why `value` fails the schema's format, when the format is one defined here. */
export function formatProblem(schema: { format?: unknown } | undefined, value: unknown): string | null {
  const problem = typeof schema?.format === 'string' ? problems.get(schema.format) : undefined;
  return problem && typeof value === 'string' ? problem(value) : null;
}
