#!/usr/bin/python3
"""classes.py: make classes' data sets, Fashion-MNIST (or any kd data set)
restricted to k of its classes (issue 26, the essay's first question).

    classes.py [--idx-dir DIR] K SUBSET TRAIN TEST OUT_DIR

The k classes of subset SUBSET (from 1) are drawn without replacement from
the data's classes by numpy's generator seeded with 1000 K + SUBSET, so
every run draws the same ones; they are relabelled 0 .. k-1 in increasing
order of their old number. TRAIN and TEST are data as kd names them:
fashion-mnist:train and fashion-mnist:test (IDX files in --idx-dir, written
back as IDX: train-images-idx3-ubyte.gz and its labels file beside it, so
kd reads them as images, its pixels scaled as the full set's), or CSV
files of numbers with the label last (written back as train.csv and
test.csv). OUT_DIR/subset.json says which classes, their names when the
data has them, and the rows kept.
"""
import argparse
import gzip
import json
import os
import sys

import numpy as np

import fmnist

def write_idx(path, a):
    """a as a gzip IDX file of u8 values, written whole then renamed"""
    head = bytes([0, 0, 8, a.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in a.shape)
    with gzip.open(path + ".tmp", "wb") as f:
        f.write(head + a.astype(np.uint8).tobytes())
    os.replace(path + ".tmp", path)


def load(spec, idx_dir):
    """("idx", images, labels) or ("csv", rows of text, labels)"""
    f = fmnist.load(spec, idx_dir)
    if f is not None:
        return ("idx",) + f
    try:
        with open(spec) as f:
            rows = [line.rstrip("\n") for line in f if line.strip()]
    except OSError as e:
        sys.exit(f"classes.py: '{spec}': {e.strerror}")
    labels = []
    for i, r in enumerate(rows):
        last = r.rsplit(",", 1)[-1].strip()
        if not last.isdigit():
            sys.exit(f"classes.py: '{spec}':{i + 1}: the last field '{last}' is not a class number")
        labels.append(int(last))
    return "csv", rows, np.array(labels, dtype=np.int64)


def keep(kind, x, y, classes, out, part):
    """the rows of the chosen classes, relabelled, written to out; their count"""
    new = {c: i for i, c in enumerate(classes)}
    idx = np.flatnonzero(np.isin(y, classes))
    if kind == "idx":
        write_idx(os.path.join(out, f"{part}-images-idx3-ubyte.gz"), x[idx].reshape(-1, 28, 28))
        write_idx(os.path.join(out, f"{part}-labels-idx1-ubyte.gz"),
                  np.array([new[c] for c in y[idx]], dtype=np.uint8))
    else:
        path = os.path.join(out, f"{part}.csv")
        with open(path + ".tmp", "w") as f:
            for i in idx:
                f.write(x[i].rsplit(",", 1)[0] + f",{new[int(y[i])]}\n")
        os.replace(path + ".tmp", path)
    return int(len(idx))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--idx-dir", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("k", type=int)
    ap.add_argument("subset", type=int)
    ap.add_argument("train")
    ap.add_argument("test")
    ap.add_argument("out_dir")
    a = ap.parse_args()

    kind, x, y = load(a.train, a.idx_dir)
    kt, xt, yt = load(a.test, a.idx_dir)
    n_classes = int(max(y.max(), yt.max())) + 1
    if not 2 <= a.k <= n_classes or a.subset < 1:
        sys.exit(f"classes.py: k {a.k}, subset {a.subset}: the data has {n_classes} classes")
    rng = np.random.default_rng(1000 * a.k + a.subset)
    classes = sorted(int(c) for c in rng.choice(n_classes, a.k, replace=False))
    os.makedirs(a.out_dir, exist_ok=True)
    info = {"k": a.k, "subset": a.subset, "classes": classes,
            "names": [fmnist.NAMES[c] for c in classes] if kind == "idx" and n_classes == 10 else None,
            "train_rows": keep(kind, x, y, classes, a.out_dir, "train"),
            "test_rows": keep(kt, xt, yt, classes, a.out_dir, "test")}
    with open(os.path.join(a.out_dir, "subset.json"), "w") as f:
        json.dump(info, f)
        f.write("\n")


if __name__ == "__main__":
    main()
