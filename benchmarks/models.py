"""Models shared by the benchmarks: the sizes DESIGN.md names."""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + (x if self.down is None else self.down(x)))


class ResNet18Like(nn.Module):
    """ResNet-18's topology (stem, 4 stages of 2 basic blocks, pool, fc) at CIFAR size."""

    def __init__(self, width: int = 16, classes: int = 10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        chans = [width, width * 2, width * 4, width * 8]
        blocks, cin = [], width
        for i, c in enumerate(chans):
            blocks += [BasicBlock(cin, c, 1 if i == 0 else 2), BasicBlock(c, c)]
            cin = c
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def mlp(widths: list[int], act=nn.ReLU) -> nn.Sequential:
    """Linear layers of the given widths with activations between them."""
    layers: list[nn.Module] = []
    for a, b in pairwise(widths):
        layers += [nn.Linear(a, b), act()]
    return nn.Sequential(*layers[:-1])


def cases():
    """(name, model, inputs, target, loss_fn) for every benchmark model."""
    torch.manual_seed(0)
    ce = nn.functional.cross_entropy
    yield "MLP 2-16-16-1", mlp([2, 16, 16, 1]), torch.randn(64, 2), torch.randn(64, 1), None
    yield "20-layer MLP w64", mlp([64] * 21), torch.randn(32, 64), torch.randn(32, 64), None
    yield ("ResNet-18-like", ResNet18Like(), torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,)), ce)
    enc = nn.TransformerEncoderLayer(d_model=64, nhead=4, dim_feedforward=128, batch_first=True, dropout=0.0)
    yield "TransformerEncoderLayer d64", enc, torch.randn(4, 16, 64), torch.randn(4, 16, 64), None


# The ResNet-18-like net as a scenario file (bench_export runs it through `bpviz export`, and
# tests/export_digests.py hashes its exports); format it with the benchmarks folder's path.
RESNET_SCENARIO = '''"""ResNet-18-like (bench_export)"""
import sys
sys.path.insert(0, {benchmarks!r})
import torch
from models import ResNet18Like

title = "ResNet-18-like"
torch.manual_seed(0)
model = ResNet18Like()
inputs = torch.randn(8, 3, 32, 32)
target = torch.randint(0, 10, (8,))
loss_fn = torch.nn.functional.cross_entropy
'''
