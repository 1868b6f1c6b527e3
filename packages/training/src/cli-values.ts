// The training commands' own value parsers, on @ehr/cli's: a bad value fails while the
// arguments are read (exit 2, naming the option), before any data is built.
import { decimalList, decimalOr, InvalidArgumentError } from '@ehr/cli';
import type { MaxFeatures } from '@ehr/model';
import { splitFractions, type SplitFractions } from './split.js';

const featureWords = decimalOr(['sqrt', 'log2', 'all'] as const, { min: 0, exclusiveMin: true });

/** `--max-features`: sqrt, log2, all, a fraction in (0, 1) or a whole number of features (what the forest accepts). */
export function maxFeaturesValue(raw: string): MaxFeatures {
  const invalid = () => new InvalidArgumentError("expected 'sqrt', 'log2', 'all', a fraction between 0 and 1, or a whole number of at least 1.");
  let value: number | 'sqrt' | 'log2' | 'all';
  try {
    value = featureWords(raw);
  } catch {
    throw invalid();
  }
  if (typeof value === 'number' && value >= 1 && !Number.isInteger(value)) throw invalid();
  return value;
}

/** `--split train,validation,test`: three shares by patient, scaled to sum to 1. */
export function splitValue(raw: string): SplitFractions {
  const parts = decimalList({ min: 0 }, 3)(raw);
  if (!(parts[0]! > 0)) throw new InvalidArgumentError('expected a train share above 0.');
  return splitFractions(parts);
}
