#!/usr/bin/python3
"""forest.py: make forest's teacher without a softmax, scikit-learn's
RandomForestClassifier, on Fashion-MNIST (issue 26, the essay's second
question).

    forest.py [--trees N] [--jobs J] [--seed S] [--train-rows N] [--val-rows N]
              [--idx-dir DIR] TRAIN TEST OUT_DIR

TRAIN and TEST are data as kd names them: fashion-mnist:train and
fashion-mnist:test (the IDX files of Debian's dataset-fashion-mnist, in
--idx-dir; pixels scaled to [0, 1] as kd scales them), or CSV files of
numbers with the label last.

The forest learns the first TRAIN_ROWS (55,000) training images; the
VAL_ROWS (5,000) after them are the students' validation rows, which
neither the forest nor a student trains on. Written to OUT_DIR, for kd-cat --import --kind probs
--id-col 1 --label-col 2 --header:

    own.csv    the forest's probabilities (its trees' mean leaf class
               fractions) for the rows it learnt, id 0 .. TRAIN_ROWS-1
    oob.csv    the same rows scored out of bag: each by the trees whose
               bootstrap sample left it out
    test.csv   the 10,000 test images
    val.csv    the validation rows as kd CSV data: the features (pixels
               as kd scales them), then the label
    forest.json  the trees, rows, seconds to fit, test accuracy, and how
               many probabilities are exactly 0 (own rows, out of bag)
"""
import argparse
import json
import os
import sys
import time

import numpy as np
from sklearn.ensemble import RandomForestClassifier

import fmnist


def load(spec, idx_dir):
    """the features (float32, pixels scaled as kd scales them) and labels
    of a data set named as kd names it"""
    f = fmnist.load(spec, idx_dir)
    if f is not None:
        return f[0].astype(np.float32) / np.float32(255), f[1]
    try:
        a = np.loadtxt(spec, delimiter=",", dtype=np.float64, ndmin=2)
    except (OSError, ValueError) as e:
        sys.exit(f"forest.py: '{spec}': {e}")
    y = a[:, -1]
    if not np.all(y == np.round(y)) or np.any(y < 0):
        sys.exit(f"forest.py: '{spec}': the last column holds a label that is not a class number")
    return a[:, :-1].astype(np.float32), y.astype(np.int64)


def write_probs(path, p, y, first_id=0):
    """id,label,p0..pK-1 with a header line; %.9g keeps float32 exactly"""
    k = p.shape[1]
    with open(path + ".tmp", "w") as f:
        f.write("id,label," + ",".join(f"p{j}" for j in range(k)) + "\n")
        for i, (row, lab) in enumerate(zip(p, y)):
            f.write(f"{first_id + i},{lab}," + ",".join(f"{v:.9g}" for v in row) + "\n")
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trees", type=int, default=100)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--train-rows", type=int, default=55000)
    ap.add_argument("--val-rows", type=int, default=5000)
    ap.add_argument("--idx-dir", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("train")
    ap.add_argument("test")
    ap.add_argument("out_dir")
    a = ap.parse_args()

    x, y = load(a.train, a.idx_dir)
    xt, yt = load(a.test, a.idx_dir)
    n = a.train_rows
    if n < 1 or a.val_rows < 1 or n + a.val_rows > len(x):
        sys.exit(f"forest.py: --train-rows {n} and --val-rows {a.val_rows}: the training set has {len(x)} rows")
    rf = RandomForestClassifier(n_estimators=a.trees, oob_score=True, n_jobs=a.jobs,
                                random_state=a.seed)
    t0 = time.time()
    rf.fit(x[:n], y[:n])
    fit_s = time.time() - t0
    own = rf.predict_proba(x[:n]).astype(np.float32)
    oob = rf.oob_decision_function_.astype(np.float32)
    # a row in every tree's bootstrap sample has no out-of-bag score
    # (scikit-learn leaves it all zeros, or NaN)
    lost = int(np.sum(~np.isfinite(oob).all(1) | (oob.sum(1) < 0.5)))
    if lost:
        sys.exit(f"forest.py: {lost} rows were in every tree's sample, so have no out-of-bag score: use more --trees")
    test = rf.predict_proba(xt).astype(np.float32)
    os.makedirs(a.out_dir, exist_ok=True)
    write_probs(os.path.join(a.out_dir, "own.csv"), own, y[:n])
    write_probs(os.path.join(a.out_dir, "oob.csv"), oob, y[:n])
    write_probs(os.path.join(a.out_dir, "test.csv"), test, yt)
    vpath = os.path.join(a.out_dir, "val.csv")
    with open(vpath + ".tmp", "w") as f:
        for row, lab in zip(x[n:n + a.val_rows], y[n:n + a.val_rows]):
            f.write(",".join(f"{v:.9g}" for v in row) + f",{lab}\n")
    os.replace(vpath + ".tmp", vpath)
    info = {
        "trees": a.trees, "seed": a.seed, "train_rows": n, "val_rows": a.val_rows,
        "fit_seconds": round(fit_s, 1),
        "test_accuracy": float((test.argmax(1) == yt).mean()),
        "oob_accuracy": float(rf.oob_score_),
        "own_accuracy": float((own.argmax(1) == y[:n]).mean()),
        "zeros_own": float((own == 0).mean()),
        "zeros_oob": float((oob == 0).mean()),
        "own_top_mean": float(own.max(1).mean()),
        "oob_top_mean": float(oob.max(1).mean()),
    }
    with open(os.path.join(a.out_dir, "forest.json"), "w") as f:
        json.dump(info, f)
        f.write("\n")


if __name__ == "__main__":
    main()
