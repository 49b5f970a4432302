"""A 2-8-8-1 MLP on XOR with a logistic loss: train it to see a decision boundary.

Open the Train menu and run it on the xor dataset (or on these four points): the boundary
splits the four quadrants once the hidden ReLUs find the two diagonals.
"""

import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
inputs = torch.tensor([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
target = torch.tensor([[0.0], [1.0], [1.0], [0.0]])
loss_fn = nn.BCEWithLogitsLoss()
lr = 0.1
