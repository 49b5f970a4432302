"""A branch through .detach()

b's path goes through .detach(), so b.grad stays None (a seed bug)."""

import torch

x = torch.tensor([1.0, 2.0])
w = torch.tensor([0.5, -1.0], requires_grad=True)
b = torch.tensor([0.3, 0.2], requires_grad=True)
target = torch.tensor([1.0, 0.0])


def loss():
    h = w * x
    gate = (b * x).detach()  # the bug: gradient cannot flow back to b
    y = h + gate
    return ((y - target) ** 2).mean()
