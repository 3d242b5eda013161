"""Variations on Chapter 4's code that its exercises ask for, scratch beside concise.

pReLU (§4.1), deeper MLPs with a chosen activation and initialisation (§4.2-4.3), the L1
penalty (§4.5), DropConnect and Gaussian multiplicative noise (§4.6), the §4.7 gradients
with a hidden bias and the L2 term, and layer-wise adaptive learning rates (LARS, §4.8).
Each has the surface of the chapter's pieces, so ``d2lnotes.utils.train.train`` trains it.
"""

import math

import torch
from torch import nn

from . import scratch

__all__ = [
    "prelu", "prelu_grad", "deep_mlp", "INITS", "init_", "l1_penalty", "dropconnect_linear",
    "DropConnectMLP", "gaussian_noise_layer", "GaussianNoiseMLP", "regularized_mlp_gradients",
    "LARS",
]

# --- §4.1 the parameterised ReLU ----------------------------------------------------------


def prelu(X, alpha):
    """``pReLU(x) = max(0, x) + alpha min(0, x)`` (§4.1.2.1); ``nn.PReLU`` is its twin."""
    return torch.clamp(X, min=0) + alpha * torch.clamp(X, max=0)


def prelu_grad(X, alpha):
    """``(d/dx, d/dalpha)`` of pReLU: ``(1 if x > 0 else alpha, min(0, x))`` (§4.1).

    At ``x = 0`` we take the left derivative ``alpha``, as torch does.
    """
    alpha = torch.as_tensor(alpha, dtype=X.dtype)
    return torch.where(X > 0, torch.ones_like(X), alpha.expand_as(X)), torch.clamp(X, max=0)


# --- §4.2-4.3 deeper MLPs, any activation, any initialisation ---------------------------


def _normal(std):
    def init(weight):
        nn.init.normal_(weight, std=std)
    return init


# name -> how it fills an ``nn.Linear.weight`` (biases are always set to 0).
INITS = {
    "N(0, 0.01^2)": _normal(0.01),  # the book's
    "N(0, 1)": _normal(1.0),
    "Xavier uniform": nn.init.xavier_uniform_,
    "Kaiming normal": nn.init.kaiming_normal_,
    "zeros": nn.init.zeros_,
}


@torch.no_grad()
def init_(net, scheme="N(0, 0.01^2)"):
    """Fill every ``nn.Linear`` weight of ``net`` by :data:`INITS` ``[scheme]``, biases 0 (§4.8)."""
    for module in net.modules():
        if isinstance(module, nn.Linear):
            INITS[scheme](module.weight)
            nn.init.zeros_(module.bias)
    return net


def deep_mlp(num_hiddens=(256,), activation=nn.ReLU, init="N(0, 0.01^2)", num_inputs=784,
             num_outputs=10):
    """``Flatten, (Linear, activation) per entry of num_hiddens, Linear`` giving logits (§4.3).

    ``num_hiddens=(256,)`` with ``nn.ReLU`` and the book's init is ``concise.mlp()``.
    """
    sizes = [num_inputs, *num_hiddens]
    layers = [nn.Flatten()]
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), activation()]
    layers.append(nn.Linear(sizes[-1], num_outputs))
    return init_(nn.Sequential(*layers), init)


# --- §4.5 the L1 penalty ------------------------------------------------------------------


def l1_penalty(w):
    """``||w||_1 = sum_i |w_i|`` (§4.5); its (sub)gradient is ``sign(w)``."""
    return torch.sum(torch.abs(w))


# --- §4.6 noise on weights, and multiplicative Gaussian noise ---------------------------


def dropconnect_linear(X, W, b, p):
    """DropConnect: ``X (M * W) / (1 - p) + b``, ``M_ij ~ Bernoulli(1 - p)`` per weight (§4.6).

    The mask falls on each weight rather than on each activation; ``E[output]`` is ``X W + b``.
    """
    if not 0 <= p < 1:
        raise ValueError(f"dropconnect_linear: p must lie in [0, 1), got {p}")
    mask = (torch.rand(W.shape, device=W.device) >= p).to(W.dtype)
    return X @ (mask * W) / (1 - p) + b


class DropConnectMLP(scratch.DropoutMLP):
    """:class:`~d2lnotes.ch4.scratch.DropoutMLP`'s 784-256-256-10 net with DropConnect on the
    two hidden layers' weights instead of dropout on their outputs (§4.6)."""

    def __call__(self, X):
        X = X.reshape(-1, self.num_inputs)
        H = X
        for W, b, p in zip(self.Ws[:2], self.bs[:2], (self.dropout1, self.dropout2)):
            Z = dropconnect_linear(H, W, b, p) if self.training else H @ W + b
            H = scratch.relu(Z)
        return H @ self.Ws[2] + self.bs[2]


def gaussian_noise_layer(X, p):
    """``h * xi`` with ``xi ~ N(1, p / (1 - p))``: dropout's mean and variance, no zeros (§4.6).

    Dropout at rate ``p`` multiplies by ``Bernoulli(1 - p) / (1 - p)``, whose mean is 1 and
    variance ``p / (1 - p)``; this noise has the same two moments.
    """
    if not 0 <= p < 1:
        raise ValueError(f"gaussian_noise_layer: p must lie in [0, 1), got {p}")
    return X * (1 + math.sqrt(p / (1 - p)) * torch.randn_like(X))


# --- §4.7 the section's objective, with a hidden bias --------------------------------------


def regularized_mlp_gradients(X, y, W1, b1, W2, lambd):
    """Gradients ``(dW1, db1, dW2)`` of ``J = mean_i l_i + lambd/2 (||W1||^2 + ||W2||^2)`` (§4.7).

    Forward: ``Z = X W1 + b1``, ``H = ReLU(Z)``, ``O = H W2`` (the section's model, rows as
    examples, with the hidden bias ``b1`` added; the bias is not penalised). Backward:
    ``dO = (softmax(O) - onehot(y)) / n``, ``dW2 = H^T dO + lambd W2``, ``dH = dO W2^T``,
    ``dZ = dH * [Z > 0]``, ``dW1 = X^T dZ + lambd W1``, ``db1 = sum_rows dZ``.
    """
    with torch.no_grad():
        Z = X @ W1 + b1
        H = scratch.relu(Z)
        O = H @ W2
        n = len(y)
        dO = scratch.softmax_cross_entropy_backward(
            torch.full((n,), 1 / n, dtype=O.dtype), O, y)
        dH, dW2, _ = scratch.linear_backward(dO, H, W2)
        dZ = scratch.relu_backward(dH, Z)
        _, dW1, db1 = scratch.linear_backward(dZ, X, W1)
    return dW1 + lambd * W1, db1, dW2 + lambd * W2


# --- §4.8 layer-wise adaptive rate scaling -------------------------------------------------


class LARS:
    """SGD whose step for each parameter is ``lr * eta * ||w|| / ||grad|| * grad`` (§4.8).

    You, Gitman and Ginsburg (2017): every layer moves by the same *relative* amount,
    ``||dw|| / ||w|| = lr * eta``, however large or small its gradient is.
    """

    def __init__(self, params, lr, eta=0.001):
        self.params, self.lr, self.eta = list(params), lr, eta

    def step(self):
        with torch.no_grad():
            for param in self.params:
                w_norm, g_norm = torch.norm(param), torch.norm(param.grad)
                trust = self.eta * w_norm / g_norm if w_norm > 0 and g_norm > 0 else 1.0
                param -= self.lr * trust * param.grad

    def zero_grad(self):
        for param in self.params:
            param.grad = None


class GaussianNoiseMLP(scratch.DropoutMLP):
    """:class:`~d2lnotes.ch4.scratch.DropoutMLP` with :func:`gaussian_noise_layer` in place of
    dropout after each hidden layer while training (§4.6)."""

    def __call__(self, X):
        X = X.reshape(-1, self.num_inputs)
        H = X
        for W, b, p in zip(self.Ws[:2], self.bs[:2], (self.dropout1, self.dropout2)):
            H = scratch.relu(H @ W + b)
            if self.training:
                H = gaussian_noise_layer(H, p)
        return H @ self.Ws[2] + self.bs[2]
