"""scikit-learn baseline on the same CSVs as bench/train-csv.ts.

    python bench/sklearn_compare.py --train train.csv --test test.csv [--jobs 2] [--trees 200]
        [--depth 12] [--max-features sqrt] [--min-leaf 5] [--seed 0]

scikit-learn < 1.4 trees do not accept NaN, so an empty cell becomes the same sentinel the
TypeScript model uses (-3.4028234663852886e38 = -FLT_MAX: below every value, so missing goes left).
Prints the same closing JSON line as train-csv.ts (plus "impl" and "jobs").
Needs numpy, pandas, scikit-learn in a virtualenv; never committed.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import average_precision_score, roc_auc_score

SENTINEL = float(-np.finfo(np.float32).max)


def load(path):
    df = pd.read_csv(path)
    y = df.pop("label").to_numpy(dtype=np.int64)
    x = df.to_numpy(dtype=np.float64)
    x[np.isnan(x)] = SENTINEL
    return x, y


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--train", required=True)
    p.add_argument("--test", required=True)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--trees", type=int, default=200)
    p.add_argument("--depth", type=int, default=12)
    p.add_argument("--max-features", default="sqrt")
    p.add_argument("--min-leaf", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--predictions", default=None)
    a = p.parse_args()
    mf = a.max_features
    if mf not in ("sqrt", "log2"):
        mf = float(mf) if "." in mf else int(mf)
    xtr, ytr = load(a.train)
    xte, yte = load(a.test)
    clf = RandomForestClassifier(
        n_estimators=a.trees,
        max_depth=a.depth,
        max_features=mf,
        min_samples_leaf=a.min_leaf,
        n_jobs=a.jobs,
        random_state=a.seed,
    )
    t0 = time.perf_counter()
    c0 = time.process_time()
    clf.fit(xtr, ytr)
    train_s = time.perf_counter() - t0
    cpu_s = time.process_time() - c0  # all threads of the process
    t0 = time.perf_counter()
    proba = clf.predict_proba(xte)[:, 1]
    predict_s = time.perf_counter() - t0
    if a.predictions:
        np.savetxt(a.predictions, proba, fmt="%.10g")
    print(f"fit {train_s:.2f}s (CPU {cpu_s:.2f}s, load {os.getloadavg()[0]:.1f}); predict {predict_s:.2f}s for {len(yte)} rows", file=sys.stderr)
    print(json.dumps({
        "impl": "scikit-learn",
        "jobs": a.jobs,
        "rows": int(xtr.shape[0]),
        "features": int(xtr.shape[1]),
        "trees": a.trees,
        "trainSeconds": round(train_s, 3),
        "auroc": round(float(roc_auc_score(yte, proba)), 4),
        "auprc": round(float(average_precision_score(yte, proba)), 4),
    }))


if __name__ == "__main__":
    main()
