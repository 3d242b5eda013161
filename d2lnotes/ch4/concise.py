"""Chapter 4, concise: the same networks with ``torch.nn`` and ``torch.optim`` (§4.1-4.6).

The optimizer is ``torch.optim.SGD``; :func:`weight_decay_sgd` is the one helper that
puts §4.5's penalty into it, on the weights only.
"""

import torch
from torch import nn

__all__ = ["activations", "mlp", "mlp_loss", "polynomial_regression", "weight_decay_sgd",
           "dropout_mlp"]

# torch's twins of scratch.relu / sigmoid / tanh, for the side-by-side checks (§4.1).
activations = {"relu": nn.functional.relu, "sigmoid": nn.functional.sigmoid,
               "tanh": nn.functional.tanh}


def _init_normal(module, std=0.01):
    """The book's init: weights ``N(0, std^2)``, biases 0."""
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, std=std)
        nn.init.zeros_(module.bias)


def mlp(num_inputs=784, num_outputs=10, num_hiddens=256):
    """Flatten, ``Linear -> ReLU -> Linear`` giving logits; init ``N(0, 0.01^2)``, bias 0 (§4.3)."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(num_inputs, num_hiddens), nn.ReLU(),
                        nn.Linear(num_hiddens, num_outputs))
    net.apply(_init_normal)
    return net


# Takes logits and applies log-softmax with the log-sum-exp trick, like
# scratch.softmax_cross_entropy.
mlp_loss = nn.CrossEntropyLoss


def polynomial_regression(num_inputs):
    """The book's net, ``nn.Linear(num_inputs, 1, bias=False)`` (§4.4)."""
    return nn.Sequential(nn.Linear(num_inputs, 1, bias=False))


def weight_decay_sgd(net, lr, weight_decay):
    """``optim.SGD`` with ``weight_decay`` on every ``nn.Linear`` weight, not the biases (§4.5).

    SGD's ``weight_decay=wd`` adds ``wd * w`` to the gradient, which is the gradient of a
    ``wd * ||w||^2 / 2`` penalty: ``l2_penalty`` without touching the loss.
    """
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    return torch.optim.SGD(
        [{"params": [m.weight for m in linears], "weight_decay": weight_decay},
         {"params": [m.bias for m in linears if m.bias is not None], "weight_decay": 0.0}],
        lr=lr)


def dropout_mlp(num_inputs=784, num_outputs=10, num_hiddens1=256, num_hiddens2=256,
                dropout1=0.2, dropout2=0.5):
    """Two hidden ReLU layers with ``nn.Dropout`` after each (§4.6.5); init ``N(0, 0.01^2)``.

    ``nn.Dropout`` is active after ``net.train()`` and the identity after ``net.eval()``.
    """
    net = nn.Sequential(nn.Flatten(), nn.Linear(num_inputs, num_hiddens1), nn.ReLU(),
                        nn.Dropout(dropout1), nn.Linear(num_hiddens1, num_hiddens2), nn.ReLU(),
                        nn.Dropout(dropout2), nn.Linear(num_hiddens2, num_outputs))
    net.apply(_init_normal)
    return net
