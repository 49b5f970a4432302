"""y = x² at x = 3

dy/dx = 2x = 6."""

import torch

x = torch.tensor(3.0, requires_grad=True)


def loss():
    return x**2
