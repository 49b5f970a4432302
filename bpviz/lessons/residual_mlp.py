"""A residual MLP: each block adds its input back, so the gradient has an identity path."""

import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(width, width)
        self.act = nn.Tanh()

    def forward(self, x):
        return x + self.act(self.fc(x))


class ResidualMLP(nn.Module):
    def __init__(self, width=8, depth=4):
        super().__init__()
        self.inp = nn.Linear(2, width)
        self.blocks = nn.Sequential(*[Block(width) for _ in range(depth)])
        self.out = nn.Linear(width, 1)

    def forward(self, x):
        return self.out(self.blocks(self.inp(x)))


torch.manual_seed(0)
model = ResidualMLP()
inputs = torch.randn(16, 2)
target = torch.randn(16, 1)
