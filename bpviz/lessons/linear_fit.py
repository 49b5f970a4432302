"""Linear(1,1) learning y = 2x from four points (the seed's training example)."""

import torch
from torch import nn

torch.manual_seed(0)
model = nn.Linear(1, 1)
inputs = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
target = torch.tensor([[2.0], [4.0], [6.0], [8.0]])
loss_fn = nn.MSELoss()
lr = 0.01
