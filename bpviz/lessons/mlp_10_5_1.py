"""Linear(10→5) → ReLU → Linear(5→1) with MSE on a batch of 32 (the four-step algorithm)."""

import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(10, 5), nn.ReLU(), nn.Linear(5, 1))
inputs = torch.randn(32, 10)
target = torch.randn(32, 1)
loss_fn = nn.MSELoss()
lr = 0.01
