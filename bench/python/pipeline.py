#!/usr/bin/python3
"""The reference architecture (README.md) in Python: its nine stages with the libraries it used,
timed per stage.

Faithful to what the reference architecture calls: torchvision.datasets.utils download_url /
check_integrity / extract_archive, torchvision.datasets.CIFAR10 (its md5 lists overridden for
generated data), boto3 upload_file (endpoint_url), torchvision.utils.make_grid + PIL for the
preview (matplotlib when installed), and bench/train/train_ref.py for training. Everything
runs sequentially, as in the reference architecture.

usage: pipeline.py --url URL --md5 HEX --manifest FILE --scratch DIR
                   [--bucket B --prefix P --endpoint-url URL] [--stages a,b,...]
                   [--train-steps N]
Prints one JSON line: {"impl": "python", "stages": {"download": seconds, ...},
"bytes": {...}, "maxrss_kb": N}.
"""
import argparse
import json
import os
import pickle
import random
import resource
import shutil
import subprocess
import sys
import time

ALL = ["download", "integrity", "extract", "verify", "pickled", "pickled_numpy", "meta", "upload",
       "preview", "train"]


def read_manifest(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                out.append((line[:32], line[34:]))
    return out


def local_cifar10(data_root, base):
    import torchvision

    n = len([f for f in os.listdir(os.path.join(data_root, base)) if f.startswith("data_batch_")])

    class LocalCIFAR10(torchvision.datasets.CIFAR10):
        base_folder = base
        # md5 None: the files were verified by the verify stage; CIFAR10 only decodes here.
        train_list = [["data_batch_%d" % (i + 1), None] for i in range(n)]
        test_list = [["test_batch", None]]
        meta = {"filename": "batches.meta", "key": "label_names", "md5": None}

    return LocalCIFAR10


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--md5", required=True)
    ap.add_argument("--manifest", required=True, help="md5sum-format manifest, paths relative to the extract folder")
    ap.add_argument("--scratch", required=True)
    ap.add_argument("--bucket", default="")
    ap.add_argument("--prefix", default="python")
    ap.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL", ""))
    ap.add_argument("--stages", default=",".join(s for s in ALL if s != "train"))
    ap.add_argument("--train-steps", type=int, default=200)
    a = ap.parse_args()
    stages = a.stages.split(",")
    os.makedirs(a.scratch, exist_ok=True)
    fname = os.path.basename(a.url)
    tarball = os.path.join(a.scratch, fname)
    root = os.path.join(a.scratch, "data")
    entries = read_manifest(a.manifest)
    base = entries[0][1].split("/")[0]
    times, sizes = {}, {}
    state = {}

    from torchvision.datasets.utils import check_integrity, download_url, extract_archive

    def download():
        if os.path.exists(tarball):
            os.remove(tarball)
        download_url(a.url, a.scratch, fname)  # md5 checked in its own stage, as the reference architecture times it
        sizes["download"] = os.path.getsize(tarball)

    def integrity():
        if not check_integrity(tarball, a.md5):
            sys.exit("integrity: md5 mismatch for " + tarball)
        sizes["integrity"] = os.path.getsize(tarball)

    def extract():
        shutil.rmtree(root, ignore_errors=True)
        extract_archive(tarball, root)

    def verify():
        total = 0
        for md5, rel in entries:
            p = os.path.join(root, rel)
            if not check_integrity(p, md5):
                sys.exit("verify: md5 mismatch for " + p)
            total += os.path.getsize(p)
        sizes["verify"] = total

    def pickled():
        cls = local_cifar10(root, base)
        train = cls(root=root, train=True, download=False)
        test = cls(root=root, train=False, download=False)
        state["train"] = train
        sizes["pickled"] = int(train.data.nbytes + test.data.nbytes)

    def pickled_numpy():
        import numpy as np

        datas, labels = [], []
        folder = os.path.join(root, base)
        names = sorted(f for f in os.listdir(folder) if f.startswith("data_batch_")) + ["test_batch"]
        for n in names:
            with open(os.path.join(folder, n), "rb") as f:
                d = pickle.load(f, encoding="latin1")
            datas.append(d["data"])
            labels.extend(d["labels"] if "labels" in d else d["fine_labels"])
        data = np.vstack(datas).reshape(-1, 3, 32, 32).transpose((0, 2, 3, 1))
        sizes["pickled_numpy"] = int(data.nbytes)

    def meta():
        with open(os.path.join(root, base, "batches.meta"), "rb") as f:
            state["classes"] = pickle.load(f, encoding="latin1")["label_names"]

    def upload():
        import boto3

        s3 = boto3.client("s3", endpoint_url=a.endpoint_url or None)
        total = 0
        for dirpath, _, files in os.walk(root):  # as sagemaker Session.upload_data walks a folder
            for fn in files:
                p = os.path.join(dirpath, fn)
                key = a.prefix + "/" + os.path.relpath(p, root)
                s3.upload_file(p, a.bucket, key)
                total += os.path.getsize(p)
        sizes["upload"] = total

    def preview():
        import torch
        import torchvision
        import torchvision.transforms as transforms
        from PIL import Image

        train = state.get("train") or local_cifar10(root, base)(root=root, train=True, download=False)
        classes = state.get("classes") or train.classes
        tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
        idx = random.sample(range(len(train)), 4)
        images = torch.stack([tf(train.data[i]) for i in idx])
        grid = torchvision.utils.make_grid(images) / 2 + 0.5
        arr = (grid.numpy().transpose((1, 2, 0)) * 255).astype("uint8")
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            plt.imshow(arr)
            plt.title(" ".join(str(classes[train.targets[i]]) for i in idx))
            plt.savefig(os.path.join(a.scratch, "preview.png"))
        except ImportError:
            Image.fromarray(arr).save(os.path.join(a.scratch, "preview.png"))

    def train():
        here = os.path.dirname(os.path.abspath(__file__))
        ref = os.path.join(here, "..", "train", "train_ref.py")
        subprocess.run([sys.executable, ref, "--data", root, "--epochs", "1", "--max-steps", str(a.train_steps)],
                       check=True, stdout=subprocess.DEVNULL)

    fns = {"download": download, "integrity": integrity, "extract": extract, "verify": verify, "pickled": pickled,
           "pickled_numpy": pickled_numpy, "meta": meta, "upload": upload, "preview": preview, "train": train}
    for s in ALL:
        if s not in stages:
            continue
        t0 = time.monotonic()
        fns[s]()
        times[s] = time.monotonic() - t0
    print(json.dumps({"impl": "python", "stages": times, "bytes": sizes,
                      "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


if __name__ == "__main__":
    main()
