// Every number and choice a command takes is parsed here, so every command says the same
// thing about a bad value: which option, what it got, what it accepts.
import { InvalidArgumentError } from 'commander';

export interface Range {
  min?: number;
  max?: number;
  /** The minimum itself is not allowed (a speed of 0 makes no sense). */
  exclusiveMin?: boolean;
}

function describeRange({ min, max, exclusiveMin }: Range): string {
  if (min !== undefined && max !== undefined) return `from ${min}${exclusiveMin ? ' (exclusive)' : ''} to ${max}`;
  if (min !== undefined) return exclusiveMin ? `above ${min}` : `of at least ${min}`;
  if (max !== undefined) return `of at most ${max}`;
  return '';
}

function inRange(value: number, { min, max, exclusiveMin }: Range): boolean {
  if (min !== undefined && (exclusiveMin ? value <= min : value < min)) return false;
  return max === undefined || value <= max;
}

/** A whole number in the range, e.g. `--patients 200`. */
export const integer =
  (range: Range = {}) =>
  (raw: string): number => {
    const value = /^[-+]?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value) || !inRange(value, range)) throw new InvalidArgumentError(`expected a whole number ${describeRange(range)}`.trim() + '.');
    return value;
  };

/** A decimal number in the range, e.g. `--deterioration-rate 0.2`. */
export const decimal =
  (range: Range = {}) =>
  (raw: string): number => {
    const value = raw.trim() === '' ? NaN : Number(raw);
    if (!Number.isFinite(value) || !inRange(value, range)) throw new InvalidArgumentError(`expected a number ${describeRange(range)}`.trim() + '.');
    return value;
  };

/** A number in the range or one of a few words, e.g. `--speed max`. */
export const decimalOr =
  <W extends string>(words: readonly W[], range: Range = {}) =>
  (raw: string): number | W => {
    const word = words.find((w) => w === raw.trim());
    if (word !== undefined) return word;
    const value = raw.trim() === '' ? NaN : Number(raw);
    if (!Number.isFinite(value) || !inRange(value, range)) {
      throw new InvalidArgumentError(`expected ${words.map((w) => `'${w}'`).join(' or ')} or a number ${describeRange(range)}`.trim() + '.');
    }
    return value;
  };

/** Comma-separated numbers, each in the range, e.g. `--split 0.6,0.2,0.2`. */
export const decimalList =
  (range: Range = {}, count?: number) =>
  (raw: string): number[] => {
    const parts = raw.split(',').map((p) => p.trim());
    const values = parts.map((p) => (p === '' ? NaN : Number(p)));
    if ((count !== undefined && values.length !== count) || values.some((v) => !Number.isFinite(v) || !inRange(v, range))) {
      throw new InvalidArgumentError(`expected ${count ?? 'comma-separated'} numbers ${describeRange(range)}, separated by commas`.replace(/\s+/g, ' ') + '.');
    }
    return values;
  };

/** NAME=VALUE pairs, e.g. `--port producer=4001`; names checked against `names`. */
export const namedInteger =
  (names: readonly string[], range: Range = {}) =>
  (raw: string, previous: Map<string, number> | undefined): Map<string, number> => {
    const eq = raw.indexOf('=');
    const name = eq > 0 ? raw.slice(0, eq) : '';
    if (!names.includes(name)) throw new InvalidArgumentError(`expected NAME=NUMBER with NAME one of ${names.join(', ')}.`);
    const value = integer(range)(raw.slice(eq + 1));
    return new Map(previous ?? []).set(name, value);
  };
