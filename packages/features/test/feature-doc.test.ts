import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FEATURE_CATALOG, FEATURE_COUNT, FEATURE_NAMES, FEATURE_SET_VERSION, renderFeatureDoc } from '../src/index.js';

describe('the feature list and its documentation', () => {
  it('FEATURES.md is the one generated from the catalog (npm run features:doc -w packages/features)', () => {
    expect(readFileSync(new URL('../FEATURES.md', import.meta.url), 'utf8')).toBe(renderFeatureDoc());
  });

  it('documents every feature: unit, definition, window, missing semantics; names unique', () => {
    expect(new Set(FEATURE_NAMES).size).toBe(FEATURE_COUNT);
    for (const f of FEATURE_CATALOG) for (const field of ['unit', 'definition', 'window', 'missing'] as const) expect(f[field], `${f.name}.${field}`).not.toBe('');
    expect(FEATURE_COUNT).toBeGreaterThanOrEqual(80);
    // A few hundred is the ceiling: every feature travels in every vector on the wire.
    expect(FEATURE_COUNT).toBeLessThanOrEqual(300);
  });

  it('changing the list or its definitions means a new FEATURE_SET_VERSION (update both pins together)', () => {
    const digest = createHash('sha256').update(JSON.stringify(FEATURE_CATALOG)).digest('hex').slice(0, 16);
    expect({ version: FEATURE_SET_VERSION, digest }).toEqual({ version: '2.1.0', digest: PINNED_DIGEST });
  });
});

const PINNED_DIGEST = '636a601e1ffe95a5';
