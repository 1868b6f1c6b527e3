// Export to ml-random-forest 2.1.0's JSON (RandomForestClassifier#toJSON), so that
// `RandomForestClassifier.load(json)` rebuilds a forest whose every tree votes as ours.
//
// ml-random-forest keeps per estimator the list of feature `indexes` it was trained on
// (feature bagging per tree); our trees draw features per split over all features, so
// every estimator gets the identity list [0 .. nFeatures-1].
//
// ml-cart nodes: an internal node is { splitValue, splitColumn, gain, numberSamples, left,
// right, kind } and ml-cart sends a row left iff `row[splitColumn] < splitValue` — exactly
// our rule. A leaf is { distribution: [[p(class 0), p(class 1)]], kind }; its vote is the
// arg-max class (a 0.5/0.5 tie votes 0), i.e. our leaf value > 0.5. Missing values must be
// replaced by MISSING_SENTINEL before calling ml-random-forest (see withSentinel()): ml-cart
// would otherwise compare null as 0 and NaN as false (→ right).
import { decodeForest, type ModelArtifact, type SeverityModel } from './artifact.js';
import type { FlatForest } from './forest.js';

export interface MlCartNode {
  kind: 'classifier';
  splitValue?: number;
  splitColumn?: number;
  gain?: number;
  numberSamples?: number;
  left?: MlCartNode;
  right?: MlCartNode;
  distribution?: number[][];
}

export interface MlRandomForestJson {
  name: 'RFClassifier';
  baseModel: {
    indexes: number[][];
    n: number;
    replacement: boolean;
    maxFeatures: number;
    nEstimators: number;
    treeOptions: Record<string, unknown>;
    isClassifier: true;
    seed: number;
    estimators: { options: Record<string, unknown>; root: MlCartNode; name: 'DTClassifier' }[];
    useSampleBagging: boolean;
  };
}

const gini = (p: number): number => 2 * p * (1 - p);

/** The vote of one of our trees as ml-cart casts it: 1 iff the leaf's p(class 1) > 0.5. */
export function leafVote(value: number): 0 | 1 {
  return value > 1 - value ? 1 : 0;
}

function exportTree(f: FlatForest, root: number): MlCartNode {
  const build = (i: number): MlCartNode => {
    const feat = f.feature[i]!;
    if (feat < 0) {
      const v = f.value[i]!;
      return { kind: 'classifier', distribution: [[1 - v, v]] };
    }
    const l = f.left[i]!;
    const r = f.right[i]!;
    const n = f.samples[i]!;
    const nl = f.samples[l]!;
    const nr = f.samples[r]!;
    // Gini gain from the node's (class-weighted) distributions and distinct-row counts.
    const gain = n > 0 ? gini(f.value[i]!) - (nl * gini(f.value[l]!) + nr * gini(f.value[r]!)) / n : 0;
    return {
      kind: 'classifier',
      splitValue: f.threshold[i]!,
      splitColumn: feat,
      gain,
      numberSamples: n,
      left: build(l),
      right: build(r),
    };
  };
  return build(root);
}

/** ml-random-forest 2.1.0 `RandomForestClassifier#toJSON()`-shaped object for our forest. */
export function exportMlRandomForest(source: ModelArtifact | SeverityModel): MlRandomForestJson {
  const artifact = 'artifact' in source ? source.artifact : source;
  const forest = 'artifact' in source ? source.forest : decodeForest(artifact.forest);
  const hp = artifact.hyperparameters;
  const nF = forest.nFeatures;
  const identity = Array.from({ length: nF }, (_, i) => i);
  const treeOptions = {
    gainFunction: 'gini',
    splitFunction: 'mean',
    minNumSamples: hp.minSamplesLeaf,
    maxDepth: hp.maxDepth ?? Number.MAX_SAFE_INTEGER,
    gainThreshold: 0,
  };
  return {
    name: 'RFClassifier',
    baseModel: {
      indexes: Array.from({ length: forest.nTrees }, () => identity.slice()),
      n: nF,
      replacement: false,
      maxFeatures: nF,
      nEstimators: forest.nTrees,
      treeOptions,
      isClassifier: true,
      seed: artifact.seed,
      estimators: Array.from(forest.roots, (root) => ({
        options: { ...treeOptions, kind: 'classifier' },
        root: exportTree(forest, root),
        name: 'DTClassifier' as const,
      })),
      useSampleBagging: hp.bootstrap,
    },
  };
}
