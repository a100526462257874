"""fmnist.py: Fashion-MNIST's IDX files as kd names them, for the
pipelines' Python steps (forest.py, classes.py)."""
import gzip
import os
import sys

import numpy as np

# kd's names of the two parts, and their files' prefixes
PARTS = {"fashion-mnist:train": "train", "fashion-mnist:test": "t10k"}
NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
         "Sneaker", "Bag", "Ankle boot"]


def read_idx(path):
    """the array of an IDX file of u8 values (images or labels), gzip or not"""
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rb") as f:
        data = f.read()
    if data[0:2] != b"\0\0" or data[2] != 8:
        sys.exit(f"'{path}': not an IDX file of u8 values")
    nd = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


def load(spec, idx_dir):
    """(images (n, 784) u8, labels (n,)) of fashion-mnist:train or :test,
    or None for another name"""
    if spec not in PARTS:
        return None
    x = read_idx(os.path.join(idx_dir, f"{PARTS[spec]}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(idx_dir, f"{PARTS[spec]}-labels-idx1-ubyte.gz"))
    return x.reshape(len(x), -1), y.astype(np.int64)
