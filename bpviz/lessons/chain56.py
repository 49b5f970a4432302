"""x → x² → +3 → ² at x = 2, step by step

The chain rule three times: dL/dx = 14 × 1 × 4 = 56.

The seed's chain-rule walk-through: y = x^2 = 4, z = y + 3 = 7, loss = z^2 = 49.
"""

import torch

lr = 0.01
x = torch.tensor([2.0], requires_grad=True)


def loss():
    y = x**2
    z = y + 3
    return z**2
