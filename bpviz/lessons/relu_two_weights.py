"""x → ×w1 → ReLU → ×w2 against target 3

The answer: w1.grad = −9, w2.grad = −3.

x = 2, w1 = 0.5, w2 = 1.5: z1 = 1, a1 = 1, y = 1.5, loss = (1.5 - 3)^2 = 2.25.
"""

import torch

x = torch.tensor([2.0], requires_grad=True)
w1 = torch.tensor([0.5], requires_grad=True)
w2 = torch.tensor([1.5], requires_grad=True)
target = torch.tensor([3.0])


def loss():
    z1 = w1 * x
    a1 = torch.relu(z1)
    y = w2 * a1
    return (y - target) ** 2
