"""Linear(10,1) + MSE on a batch of 32 random samples (the seed's full training step)."""

import torch
from torch import nn

torch.manual_seed(0)
model = nn.Linear(10, 1)
inputs = torch.randn(32, 10)
target = torch.randn(32, 1)
loss_fn = nn.MSELoss()
lr = 1e-3
