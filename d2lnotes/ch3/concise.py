"""Chapter 3, concise: the same two models with ``torch.nn`` and ``torch.optim`` (§3.5, §3.7)."""

from torch import nn, optim


def linear_regression(num_inputs=2):
    """``nn.Linear`` is ``y_hat = X W^T + b``; init as the book: ``W ~ N(0, 0.01^2)``, ``b = 0``."""
    net = nn.Sequential(nn.Linear(num_inputs, 1))
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    return net


# nn.MSELoss is mean((y_hat - y)^2): it has no 1/2, so its gradient is twice that of §3.1's
# squared loss. The book trains it with the same lr anyway; ch3.compare_linear_regression
# halves the lr instead so that both versions make identical updates.
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


def sgd(params, lr):
    """The optimizer both chapters use: ``torch.optim.SGD``."""
    return optim.SGD(params, lr=lr)
