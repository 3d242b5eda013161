"""Chapter 3, concise: the same two models with ``torch.nn`` (§3.5, §3.7).

The optimizer is ``torch.optim.SGD``, the twin of ``scratch.SGD``.
"""

from torch import nn


def linear_regression(num_inputs=2):
    """``nn.Linear`` is ``y_hat = X W^T + b``; init as the book: ``W ~ N(0, 0.01^2)``, ``b = 0``."""
    net = nn.Sequential(nn.Linear(num_inputs, 1))
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    return net


# The factor of 2, reconciled once for the whole package: nn.MSELoss is mean((y_hat - y)^2),
# with no 1/2, so its gradient is twice that of the scratch squared_loss (§3.1). Wherever a
# scratch model on squared_loss is compared with an nn.MSELoss twin (§3.5, §4.4, §4.5), the
# concise optimizer takes lr / 2 (and a penalty 2 * lambd), and the two make identical steps.
linear_regression_loss = nn.MSELoss


def softmax_regression(num_inputs=784, num_outputs=10):
    """Flatten, then one ``nn.Linear`` giving logits; init ``N(0, 0.01^2)``, bias 0 (§3.7)."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(num_inputs, num_outputs))
    nn.init.normal_(net[1].weight, std=0.01)
    nn.init.zeros_(net[1].bias)
    return net


# CrossEntropyLoss takes logits and applies log-softmax itself with the log-sum-exp
# trick (§3.7), so the network has no softmax layer.
softmax_regression_loss = nn.CrossEntropyLoss

