"""Linear(2→3) → ReLU → Linear(3→1) on x = [1, 2], target 5

Hidden unit 1 is dead: its ReLU passes no gradient.

Its pre-activation is negative, so ReLU outputs 0, passes no gradient, and the unit's
weights get an all-zero gradient: the "dying ReLU" of the seed tutorial.
"""

import torch
from torch import nn

model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
with torch.no_grad():
    model[0].weight.copy_(torch.tensor([[0.4521, -0.3214], [0.1234, -0.6543], [-0.2341, 0.4]]))
    model[0].bias.copy_(torch.tensor([0.3, -0.2, 0.05]))
    model[2].weight.copy_(torch.tensor([[0.3, -0.4, 0.3]]))
    model[2].bias.copy_(torch.tensor([0.1]))
inputs = torch.tensor([[1.0, 2.0]])
target = torch.tensor([[5.0]])
loss_fn = nn.MSELoss()
