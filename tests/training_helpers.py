"""Small models and data shared by the training tests."""

import torch
from torch import nn


def mlp(seed=0, sizes=(3, 8, 8, 2)):
    torch.manual_seed(seed)
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def regression_data(seed=1, n=32):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, generator=gen), torch.randn(n, 2, generator=gen)
