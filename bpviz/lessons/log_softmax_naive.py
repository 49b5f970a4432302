"""log(softmax(z)) with a confident logit

softmax underflows to 0 and the gradient is NaN.

Compare log_softmax_stable, which fuses the two and stays finite.
"""

import torch

logits = torch.tensor([[100.0, 0.0, -100.0]], requires_grad=True)
target = torch.tensor([0])


def loss():
    p = torch.softmax(logits, dim=1)
    return torch.nn.functional.nll_loss(torch.log(p), target)
