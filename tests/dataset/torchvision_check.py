"""Loads a generated dataset with torchvision.datasets.CIFAR10 (download=False, md5 lists
overridden from the generated manifest) and checks pixels/labels against tierbench's own
decoding (`tierbench dataset inspect --json` md5s). With --train-epochs it also trains the
PyTorch tutorial CNN on CPU and prints the test accuracy.

usage: torchvision_check.py ROOT TB_BIN [--train-epochs N] [--min-accuracy A]
                             [--batch-size B] [--lr LR]
(the defaults of --batch-size and --lr are the tutorial's: 4 and 0.001)
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
import torchvision.transforms as transforms


def manifest_md5s(root):
    out = {}
    with open(os.path.join(root, "cifar-10-batches-py.md5")) as f:
        for line in f:
            md5, path = line.rstrip("\n").split("  ", 1)
            out[os.path.basename(path)] = md5
    return out


class Net(nn.Module):  # the PyTorch CIFAR-10 tutorial network
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("tb_bin")
    ap.add_argument("--train-epochs", type=int, default=0)
    ap.add_argument("--min-accuracy", type=float, default=0.0)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--lr", type=float, default=0.001)
    args = ap.parse_args()

    md5s = manifest_md5s(args.root)
    C = torchvision.datasets.CIFAR10
    train_names = sorted((n for n in md5s if n.startswith("data_batch_")), key=lambda n: int(n.rsplit("_", 1)[1]))
    C.train_list = [[n, md5s[n]] for n in train_names]
    C.test_list = [["test_batch", md5s["test_batch"]]]
    C.meta = {"filename": "batches.meta", "key": "label_names", "md5": md5s["batches.meta"]}

    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    train = C(root=args.root, train=True, download=False, transform=tf)
    test = C(root=args.root, train=False, download=False, transform=tf)
    assert train.classes == ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    # torchvision holds data as N x 32 x 32 x 3 (HWC); back to the file's CHW rows.
    for ds, names in ((train, train_names), (test, ["test_batch"])):
        rows = ds.data.transpose(0, 3, 1, 2).reshape(len(ds.data), 3072)
        offset = 0
        for name in names:
            info = json.loads(subprocess.check_output(
                [args.tb_bin, "dataset", "inspect", "--json", os.path.join(args.root, "cifar-10-batches-py", name)]))
            n = info["count"]
            got_pixels = hashlib.md5(np.ascontiguousarray(rows[offset:offset + n]).tobytes()).hexdigest()
            got_labels = hashlib.md5(np.asarray(ds.targets[offset:offset + n], dtype=np.uint8).tobytes()).hexdigest()
            if got_pixels != info["pixels_md5"] or got_labels != info["labels_md5"]:
                print(f"MISMATCH {name}: torchvision {got_pixels}/{got_labels} tierbench "
                      f"{info['pixels_md5']}/{info['labels_md5']}")
                return 1
            offset += n
        assert offset == len(ds.data)
    print(f"torchvision: {len(train)} train + {len(test)} test images identical to tierbench's decoding")

    if args.train_epochs <= 0:
        return 0
    torch.manual_seed(0)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    loader = torch.utils.data.DataLoader(train, batch_size=args.batch_size, shuffle=True, num_workers=0)
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9)
    crit = nn.CrossEntropyLoss()
    t0 = time.time()
    for _ in range(args.train_epochs):
        for x, y in loader:
            opt.zero_grad()
            loss = crit(net(x), y)
            loss.backward()
            opt.step()
    correct = total = 0
    with torch.no_grad():
        for x, y in torch.utils.data.DataLoader(test, batch_size=256):
            correct += (net(x).argmax(1) == y).sum().item()
            total += len(y)
    acc = correct / total
    print(f"tutorial CNN: {args.train_epochs} epoch(s) in {time.time() - t0:.0f}s, test accuracy {acc:.3f}")
    return 0 if acc >= args.min_accuracy else 1


if __name__ == "__main__":
    sys.exit(main())
