#!/usr/bin/env python3
"""torch_mlp.py: the networks of bench-model in PyTorch (Debian's
python3-torch), same architecture, batch and thread count, for the ratio
kd / PyTorch in `make bench BENCH=model`. Prints samples/s for training
(SGD with momentum, dropout as in kd) and inference."""
import argparse
import os
import time

import torch
import torch.nn as nn


def net(hidden, p_in, p_hid):
    layers, d = [], 784
    if p_in:
        layers.append(nn.Dropout(p_in))
    for h in hidden:
        layers += [nn.Linear(d, h), nn.ReLU()]
        if p_hid:
            layers.append(nn.Dropout(p_hid))
        d = h
    layers.append(nn.Linear(d, 10))
    return nn.Sequential(*layers)


def bench(name, hidden, p_in, p_hid, secs):
    torch.manual_seed(1)
    m = net(hidden, p_in, p_hid)
    opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    X = torch.rand(4096, 784)
    y = torch.randint(0, 10, (4096,))
    B, BI = 128, 256
    m.train()
    steps, t0 = 0, time.perf_counter()
    while True:
        off = (steps * B) % (4096 - B)
        opt.zero_grad()
        loss = loss_fn(m(X[off:off + B]), y[off:off + B])
        loss.backward()
        opt.step()
        steps += 1
        t = time.perf_counter() - t0
        if t >= secs:
            break
    train = steps * B / t
    m.eval()
    rows, t0 = 0, time.perf_counter()
    with torch.no_grad():
        while True:
            off = rows % (4096 - BI)
            m(X[off:off + BI])
            rows += BI
            t = time.perf_counter() - t0
            if t >= secs:
                break
    infer = rows / t
    print(f"{name:<28} {train:12.0f} {'':>10} {'':>10} {infer:14.0f}")
    return train, infer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"== PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'model (batch 128)':<28} {'train smp/s':>12} {'':>10} {'':>10} {'infer smp/s':>14}")
    bench("784-1200-1200-10 teacher", [1200, 1200], 0.2, 0.5, a.seconds)
    bench("784-800-800-10 student", [800, 800], 0.0, 0.0, a.seconds)


if __name__ == "__main__":
    main()
