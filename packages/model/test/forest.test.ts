import { describe, expect, it } from 'vitest';
import { concatTrees, firstTrees, ForestPredictor, type FlatForest } from '../src/index.js';
import { topContributors } from '../src/forest.js';

// Two hand-made trees whose nodes are NOT in pre-order (the predictor re-lays them out).
//   tree 0: x0 < 0.5 ? 0.2 : (x1 < 1 ? 0.6 : 0.9)
//   tree 1: x1 < 3 ? 0.1 : 0.7
function handForest(): FlatForest {
  return concatTrees(2, [
    {
      feature: Int32Array.from([0, 1, -1, -1, -1]),
      threshold: Float64Array.from([0.5, 1, 0, 0, 0]),
      left: Int32Array.from([4, 3, -1, -1, -1]),
      right: Int32Array.from([1, 2, -1, -1, -1]),
      value: Float64Array.from([0.5, 0.7, 0.9, 0.6, 0.2]),
      samples: Int32Array.from([10, 6, 3, 3, 4]),
    },
    {
      feature: Int32Array.from([-1, 1, -1]),
      threshold: Float64Array.from([0, 3, 0]),
      left: Int32Array.from([-1, 2, -1]),
      right: Int32Array.from([-1, 0, -1]),
      value: Float64Array.from([0.7, 0.3, 0.1]),
      samples: Int32Array.from([5, 10, 5]),
    },
  ].map((t, i) => (i === 1 ? { ...t, ...reroot(t) } : t)));
}
// tree 1's root is node 1 in the list above; concatTrees takes node 0 as the root, so swap 0 and 1.
function reroot<T extends { feature: Int32Array; threshold: Float64Array; left: Int32Array; right: Int32Array; value: Float64Array; samples: Int32Array }>(t: T): Partial<T> {
  const perm = [1, 0, 2]; // new index → old index
  const inv = [1, 0, 2]; // old index → new index
  const map = (a: Int32Array): Int32Array => Int32Array.from(perm, (o) => (a[o]! < 0 ? -1 : inv[a[o]!]!));
  return {
    feature: Int32Array.from(perm, (o) => t.feature[o]!),
    threshold: Float64Array.from(perm, (o) => t.threshold[o]!),
    left: map(t.left),
    right: map(t.right),
    value: Float64Array.from(perm, (o) => t.value[o]!),
    samples: Int32Array.from(perm, (o) => t.samples[o]!),
  } as Partial<T>;
}

describe('ForestPredictor on a hand-made forest', () => {
  const f = handForest();
  const p = new ForestPredictor(f);
  it('follows value < threshold → left, missing → left', () => {
    expect(p.predictProba([0.4, 9])).toBeCloseTo((0.2 + 0.7) / 2, 15);
    expect(p.predictProba([0.5, 0.5])).toBeCloseTo((0.6 + 0.1) / 2, 15); // 0.5 is not < 0.5 → right
    expect(p.predictProba([0.7, 1])).toBeCloseTo((0.9 + 0.1) / 2, 15);
    expect(p.predictProba([null, null])).toBeCloseTo((0.2 + 0.1) / 2, 15);
    expect(p.predictProba([NaN, 5])).toBeCloseTo((0.2 + 0.7) / 2, 15);
    expect(Array.from(p.treeValues([0.7, 1]))).toEqual([0.9, 0.1]);
  });
  it('batch = single, bit for bit', () => {
    const rows = [[0.4, 9], [0.5, 0.5], [0.7, 1], [null, null], [NaN, 5]];
    expect(Array.from(p.predictProbaBatch(rows))).toEqual(rows.map((r) => p.predictProba(r)));
    expect(Array.from(p.predictProbaBatch(Float64Array.from(rows.flat().map((v) => v ?? NaN))))).toEqual(rows.map((r) => p.predictProba(r)));
    expect(() => p.predictProba([1])).toThrow(/expects 2/);
  });
  it('explains along the path', () => {
    const e = p.explain([0.7, 1], 2, ['a', 'b']);
    expect(e.bias).toBeCloseTo((0.5 + 0.3) / 2, 15);
    // tree 0: root 0.5 → 0.7 (a: +0.2) → 0.9 (b: +0.2); tree 1: 0.3 → 0.1 (b: −0.2)
    expect(e.all[0]).toBeCloseTo(0.1, 15);
    expect(e.all[1]).toBeCloseTo(0, 15);
    expect(e.top[0]!.name).toBe('a');
  });
  it('firstTrees keeps a prefix of the forest', () => {
    const one = firstTrees(f, 1);
    expect(new ForestPredictor(one).predictProba([0.7, 1])).toBeCloseTo(0.9, 15);
    expect(() => firstTrees(f, 3)).toThrow(/1\.\.2/);
  });
});

describe('topContributors', () => {
  // What explain() gave before: every non-zero feature sorted by |contribution|, ties by index.
  const bySort = (all: Float64Array, k: number) =>
    Array.from(all.keys())
      .filter((f) => all[f] !== 0)
      .sort((a, b) => Math.abs(all[b]!) - Math.abs(all[a]!) || a - b)
      .slice(0, Math.max(0, k));

  it('is the first k of the full sort: largest |contribution| first, ties to the lower index, zeros never', () => {
    const ties = Float64Array.from([0, 0.2, -0.3, 0.2, 0, -0.2, 0.3, 0.1]);
    for (const k of [0, 1, 2, 3, 4, 6, 8, 20]) expect(topContributors(ties, k), `k = ${k}`).toEqual(bySort(ties, k));
    expect(topContributors(ties, 3)).toEqual([2, 6, 1]);
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 200; round++) {
      // Rounded to few values, so that ties are common; a third zero.
      const all = Float64Array.from({ length: 211 }, () => (random() < 0.33 ? 0 : Math.round((random() - 0.5) * 20) / 100));
      for (const k of [1, 5, 50]) expect(topContributors(all, k)).toEqual(bySort(all, k));
    }
  });
});
