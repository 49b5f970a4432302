"""A 20-layer sigmoid MLP

The first layers' gradients vanish (compare deep_relu).

Each sigmoid multiplies the backward signal by at most 0.25, so after 20 layers almost
nothing reaches layer 0.
"""

import torch
from torch import nn

torch.manual_seed(0)
layers = []
for _ in range(20):
    layers += [nn.Linear(16, 16), nn.Sigmoid()]
model = nn.Sequential(*layers, nn.Linear(16, 1))
inputs = torch.randn(8, 16)
target = torch.randn(8, 1)
