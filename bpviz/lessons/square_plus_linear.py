"""y = x² + 3x at x = 2: x is used twice

dy/dx = 2x + 3 = 7: its gradient is the sum over both uses."""

import torch

x = torch.tensor(2.0, requires_grad=True)


def loss():
    return x**2 + 3 * x
