#!/usr/bin/python3
"""tabular.py: the data and the scikit-learn peer of `make tabular`.

  tabular.py split NAME SEED DIR
      write DIR/train.csv and DIR/test.csv: an 80/20 split of data set NAME
      (stratified, drawn from SEED), the label last, no header. NAME is one
      of scikit-learn's bundled CSVs (iris, wine, breast_cancer, digits) or
      fashion-mnist (the first FMNIST_ROWS of Debian's training images,
      default 10000; pixels 0-255).
  tabular.py subsplit TRAIN SEED DIR
      write DIR/train.csv and DIR/val.csv: an 80/20 split of the rows of
      TRAIN (stratified, from SEED), for choosing defaults on validation
      rows without ever reading the test rows.
  tabular.py sklearn TRAIN TEST HIDDEN SEED
      fit scikit-learn's MLPClassifier with its defaults and
      hidden_layer_sizes HIDDEN ("64,64"), after a StandardScaler fitted
      on TRAIN (what its user guide recommends), and print one JSON
      line: test accuracy (%) and seconds of the fit.

Only Debian's python3-sklearn is used; nothing is downloaded.
"""
import gzip
import json
import os
import struct
import sys
import time

import numpy as np

FMNIST = "/usr/share/datasets/fashion-mnist"


def load(name):
    from sklearn import datasets
    if name == "fashion-mnist":
        rows = int(os.environ.get("FMNIST_ROWS", "10000"))
        with gzip.open(f"{FMNIST}/train-images-idx3-ubyte.gz") as f:
            _, n, h, w = struct.unpack(">4I", f.read(16))
            n = min(n, rows)
            x = np.frombuffer(f.read(n * h * w), np.uint8).reshape(n, h * w)
        with gzip.open(f"{FMNIST}/train-labels-idx1-ubyte.gz") as f:
            f.read(8)
            y = np.frombuffer(f.read(n), np.uint8)
        return x.astype(np.float64), y.astype(np.int64), "%d"
    loader = {"iris": datasets.load_iris, "wine": datasets.load_wine,
              "breast_cancer": datasets.load_breast_cancer,
              "digits": datasets.load_digits}.get(name)
    if loader is None:
        sys.exit(f"tabular.py: unknown data set '{name}'")
    d = loader()
    return d.data, d.target, "%.17g"


def split(name, seed, out):
    from sklearn.model_selection import train_test_split
    x, y, fmt = load(name)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, stratify=y,
                                          random_state=int(seed))
    os.makedirs(out, exist_ok=True)
    write(f"{out}/train.csv", xtr, ytr, fmt)
    write(f"{out}/test.csv", xte, yte, fmt)


def write(path, xs, ys, fmt):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        for row, lab in zip(xs, ys):
            f.write(",".join(fmt % v for v in row) + f",{lab}\n")
    os.replace(tmp, path)


def subsplit(train, seed, out):
    from sklearn.model_selection import train_test_split
    x, y = read_csv(train)
    xtr, xva, ytr, yva = train_test_split(x, y, test_size=0.2, stratify=y,
                                          random_state=int(seed))
    os.makedirs(out, exist_ok=True)
    write(f"{out}/train.csv", xtr, ytr, "%.17g")
    write(f"{out}/val.csv", xva, yva, "%.17g")


def read_csv(path):
    a = np.loadtxt(path, delimiter=",", ndmin=2)
    return a[:, :-1], a[:, -1].astype(np.int64)


def sk(train, test, hidden, seed):
    import warnings
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    xtr, ytr = read_csv(train)
    xte, yte = read_csv(test)
    sizes = tuple(int(h) for h in hidden.split(","))
    model = make_pipeline(StandardScaler(),
                          MLPClassifier(hidden_layer_sizes=sizes,
                                        random_state=int(seed)))
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(xtr, ytr)
    secs = time.perf_counter() - t0
    acc = 100.0 * float(np.mean(model.predict(xte) == yte))
    print(json.dumps({"accuracy": acc, "seconds": secs,
                      "epochs": int(model[-1].n_iter_)}))


def main(argv):
    if len(argv) == 4 and argv[0] == "split":
        split(*argv[1:])
    elif len(argv) == 4 and argv[0] == "subsplit":
        subsplit(*argv[1:])
    elif len(argv) == 5 and argv[0] == "sklearn":
        sk(*argv[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
