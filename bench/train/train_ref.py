#!/usr/bin/python3
"""The PyTorch CIFAR-10 tutorial ("Training a Classifier"), faithfully: same Net, same recipe
(batch 4, SGD lr 0.001 momentum 0.9, cross-entropy, ToTensor + Normalize(0.5, 0.5)), the
torchvision CIFAR10 dataset class (its md5 lists overridden so generated data loads) and a
DataLoader with --workers workers. Prints the tutorial's lines, then one JSON line:
{"impl": "python", "workers": W, "threads": T, "epoch_seconds": [...], "accuracy": A, ...}.

usage: train_ref.py --data DIR [--epochs 1] [--workers 2] [--threads 1] [--seed 0]
                    [--save model.pth] [--load model.pth] [--max-steps N]
"""
import argparse
import glob
import json
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
import torchvision
import torchvision.transforms as transforms


class Net(nn.Module):
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
        x = torch.flatten(x, 1)  # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


def local_cifar10(root):
    """torchvision's CIFAR10 with md5 lists matching whatever batches the folder holds."""
    base = os.path.join(root, "cifar-10-batches-py")
    if not os.path.isdir(base):  # given the batches folder itself
        base, root = root, os.path.dirname(os.path.abspath(root))
    n = len(glob.glob(os.path.join(base, "data_batch_*")))

    class LocalCIFAR10(torchvision.datasets.CIFAR10):
        base_folder = os.path.basename(base)
        train_list = [["data_batch_%d" % (i + 1), None] for i in range(n)]
        test_list = [["test_batch", None]]
        meta = {"filename": "batches.meta", "key": "label_names", "md5": None}

    return LocalCIFAR10, root


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--save", default="")
    ap.add_argument("--load", default="", help="only evaluate this state_dict")
    ap.add_argument("--max-steps", type=int, default=0)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    transform = transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    dataset_class, root = local_cifar10(a.data)
    trainset = dataset_class(root=root, train=True, download=False, transform=transform)
    trainloader = torch.utils.data.DataLoader(trainset, batch_size=a.batch_size, shuffle=True,
                                              num_workers=a.workers)
    testset = dataset_class(root=root, train=False, download=False, transform=transform)
    testloader = torch.utils.data.DataLoader(testset, batch_size=a.batch_size, shuffle=False,
                                             num_workers=a.workers)
    classes = trainset.classes

    net = Net()
    epoch_seconds = []
    if a.load:
        net.load_state_dict(torch.load(a.load))
    else:
        criterion = nn.CrossEntropyLoss()
        optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
        steps = 0
        for epoch in range(a.epochs):  # loop over the dataset multiple times
            start = time.perf_counter()
            running_loss = 0.0
            for i, data in enumerate(trainloader, 0):
                # get the inputs; data is a list of [inputs, labels]
                inputs, labels = data
                # zero the parameter gradients
                optimizer.zero_grad()
                # forward + backward + optimize
                outputs = net(inputs)
                loss = criterion(outputs, labels)
                loss.backward()
                optimizer.step()
                # print statistics
                running_loss += loss.item()
                if i % 2000 == 1999:  # print every 2000 mini-batches
                    print(f"[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 2000:.3f}", flush=True)
                    running_loss = 0.0
                steps += 1
                if a.max_steps and steps >= a.max_steps:
                    break
            epoch_seconds.append(time.perf_counter() - start)
        print("Finished Training")
        if a.save:
            torch.save(net.state_dict(), a.save)

    correct = 0
    total = 0
    correct_pred = {name: 0 for name in classes}
    total_pred = {name: 0 for name in classes}
    with torch.no_grad():
        for data in testloader:
            images, labels = data
            outputs = net(images)
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
            for label, prediction in zip(labels, predicted):
                if label == prediction:
                    correct_pred[classes[label]] += 1
                total_pred[classes[label]] += 1
    print(f"Accuracy of the network on the {total} test images: {100 * correct / total:.2f} %")
    for name, count in correct_pred.items():
        print(f"Accuracy for class: {name:5s} is {100 * float(count) / max(1, total_pred[name]):.1f} %")
    print(json.dumps({"impl": "python", "workers": a.workers, "threads": torch.get_num_threads(),
                      "epoch_seconds": epoch_seconds, "accuracy": correct / total,
                      "train_images": len(trainset), "test_images": total}))


if __name__ == "__main__":
    main()
