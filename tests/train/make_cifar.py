#!/usr/bin/python3
"""Writes a small learnable CIFAR-10 "python version" dataset (pickles like the real files).

usage: make_cifar.py OUT_DIR [--train-files N] [--per-file N] [--test N] [--seed S]
Creates OUT_DIR/cifar-10-batches-py/{data_batch_1..N,test_batch,batches.meta}. Each class
has its own colour, stripe frequency and orientation under heavy noise, so a small CNN learns
it in one epoch without reaching 100 %. Used by tests/train/*_test.sh and bench/train/run.sh
when the `tierbench dataset generate` verb is not available.
"""
import argparse
import os
import pickle

import numpy as np

NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def images(rng, labels):
    n = len(labels)
    yy, xx = np.meshgrid(np.arange(32), np.arange(32), indexing="ij")
    out = np.empty((n, 3, 32, 32), dtype=np.float32)
    for c in range(10):
        idx = np.nonzero(labels == c)[0]
        if len(idx) == 0:
            continue
        colour = np.array([(c * 37) % 256, (c * 91 + 40) % 256, (c * 53 + 90) % 256], np.float32)
        freq = 0.25 + 0.12 * (c % 5)
        angle = np.pi * (c // 5) / 2
        stripes = np.sin(freq * (np.cos(angle) * xx + np.sin(angle) * yy))
        base = colour[:, None, None] * 0.5 + 60 * stripes[None]
        out[idx] = base[None] + 64
    out += rng.normal(0, 70, size=out.shape).astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8).reshape(n, 3072)


def write(path, obj):
    with open(path + ".tmp", "wb") as f:
        pickle.dump(obj, f, protocol=2)
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--train-files", type=int, default=5)
    ap.add_argument("--per-file", type=int, default=10000)
    ap.add_argument("--test", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    d = os.path.join(a.out, "cifar-10-batches-py")
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    batches = [("data_batch_%d" % (i + 1), a.per_file) for i in range(a.train_files)]
    batches.append(("test_batch", a.test))
    for name, count in batches:
        labels = rng.integers(0, 10, size=count)
        write(os.path.join(d, name), {
            "batch_label": "generated " + name,
            "labels": [int(x) for x in labels],
            "data": images(rng, labels),
            "filenames": ["%s_%05d.png" % (name, i) for i in range(count)],
        })
    write(os.path.join(d, "batches.meta"),
          {"num_cases_per_batch": a.per_file, "label_names": NAMES, "num_vis": 3072})


if __name__ == "__main__":
    main()
