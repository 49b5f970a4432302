"""y = x^2 + 3x at x = 2: dy/dx = 2x + 3 = 7 (x is used twice; its gradient is the sum)."""
import torch

x = torch.tensor(2.0, requires_grad=True)


def loss():
    return x ** 2 + 3 * x
