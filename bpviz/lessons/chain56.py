"""x -> x^2 -> +3 -> ^2 at x = 2: dL/dx = 14 x 1 x 4 = 56.

The seed's chain-rule walk-through: y = x^2 = 4, z = y + 3 = 7, loss = z^2 = 49.
"""
import torch

lr = 0.01
x = torch.tensor([2.0], requires_grad=True)


def loss():
    y = x ** 2
    z = y + 3
    return z ** 2
