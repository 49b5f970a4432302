"""The same 20-layer MLP with ReLU and Kaiming init

Gradients reach the first layer (compare deep_sigmoid)."""

import torch
from torch import nn

torch.manual_seed(0)
layers = []
for _ in range(20):
    linear = nn.Linear(16, 16)
    nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
    nn.init.zeros_(linear.bias)
    layers += [linear, nn.ReLU()]
model = nn.Sequential(*layers, nn.Linear(16, 1))
inputs = torch.randn(8, 16)
target = torch.randn(8, 1)
