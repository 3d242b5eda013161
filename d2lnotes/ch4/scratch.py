"""Chapter 4 from scratch: activations, the MLP, polynomial regression, weight decay,
dropout, backpropagation by hand and Xavier initialisation, in the book's order.

Same surface as the ``torch.nn`` twins in ``concise.py`` (callable, ``parameters()``,
``train()`` / ``eval()`` where it matters), so the one loop in ``d2lnotes.utils.train``
trains both. The optimizer is Chapter 3's scratch ``SGD``.

The scratch MLPs return *logits* and are trained with :func:`softmax_cross_entropy`,
which takes logits and uses the log-sum-exp trick (§3.7), exactly what
``nn.CrossEntropyLoss`` does. Ending the net with Chapter 3's ``softmax`` and taking
``-log`` of the probability would be the same number in exact arithmetic, but it
underflows to ``log(0) = -inf`` once a logit gap passes ~100, and the hand-derived
gradient of §4.7 is simplest from logits: ``softmax(o) - onehot(y)``.
"""

import math

import torch

from ..ch3.scratch import SGD, check_labels, softmax, squared_loss

__all__ = [
    "SGD", "relu", "sigmoid", "tanh", "relu_grad", "sigmoid_grad", "tanh_grad",
    "softmax_cross_entropy", "MLP", "PolynomialRegression", "l2_penalty", "penalized_loss",
    "linear_backward", "relu_backward",
    "softmax_cross_entropy_backward", "mlp_gradients", "Linear", "ReLU",
    "SoftmaxCrossEntropy", "HandMLP", "hand_softmax_cross_entropy", "dropout_layer",
    "DropoutMLP", "xavier_uniform", "xavier_normal",
]

# --- activation functions and their derivatives (§4.1) ------------------------------------


def relu(X):
    """Rectified linear unit, ``ReLU(x) = max(x, 0)`` (§4.1.2.1)."""
    return torch.max(X, torch.zeros_like(X))


def relu_grad(X):
    """``d/dx ReLU(x) = 1 if x > 0 else 0``; at ``x = 0`` we take 0, as torch does (§4.1.2.1)."""
    return (X > 0).to(X.dtype)


def sigmoid(X):
    """``sigmoid(x) = 1 / (1 + exp(-x))`` (§4.1.2.2), written so that no ``exp`` overflows.

    For ``x < 0`` the same value is ``exp(x) / (1 + exp(x))``; with ``e = exp(-|x|) <= 1``
    both branches are finite, so ``sigmoid(-100)`` is ``3.8e-44`` and not ``1 / inf``.
    """
    e = torch.exp(-X.abs())
    return torch.where(X >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_grad(X):
    """``d/dx sigmoid(x) = sigmoid(x) (1 - sigmoid(x))``, at most 1/4, at ``x = 0`` (§4.1.2.2)."""
    s = sigmoid(X)
    return s * (1 - s)


def tanh(X):
    """``tanh(x) = (1 - exp(-2x)) / (1 + exp(-2x))`` (§4.1.2.3), stable for every ``x``.

    Written with ``t = expm1(-2|x|) = exp(-2|x|) - 1`` as ``sign(x) (-t) / (2 + t)``:
    no ``exp`` overflows (the book's form is ``inf / inf = nan`` at ``x = -100``) and
    ``expm1`` keeps full precision near 0, where ``1 - exp(-2x)`` would cancel.
    """
    t = torch.expm1(-2 * X.abs())
    return torch.sign(X) * (-t) / (2 + t)


def tanh_grad(X):
    """``d/dx tanh(x) = 1 - tanh(x)^2``, which is 1 at ``x = 0`` (§4.1.2.3)."""
    return 1 - tanh(X) ** 2


# --- the MLP (§4.2) ----------------------------------------------------------------------


def softmax_cross_entropy(logits, y):
    """Per-example ``l = log sum_k exp(o_k) - o_y``, as ``m + log sum_k exp(o_k - m)`` (§3.7).

    ``m = max_k o_k`` keeps every exponent <= 0; this is ``-log softmax(o)_y`` without
    ever forming a probability that could underflow to 0.
    """
    if torch.is_floating_point(y) or y.ndim != 1 or logits.ndim != 2 or len(y) != len(logits):
        raise ValueError(f"softmax_cross_entropy: need logits (n, classes) and n integer labels, "
                         f"got shapes {tuple(logits.shape)} and {tuple(y.shape)} ({y.dtype})")
    y = check_labels(y, logits.shape[1], "softmax_cross_entropy")
    m = logits.max(dim=1, keepdim=True).values.detach()
    lse = m.squeeze(1) + torch.log(torch.exp(logits - m).sum(dim=1))
    return lse - logits[torch.arange(len(y), device=logits.device), y]


class MLP:
    """One hidden layer: ``H = ReLU(X W1 + b1)``, logits ``O = H W2 + b2`` (§4.2.1).

    Weights ``~ N(0, sigma^2)``, biases 0; ``X`` is flattened to ``(batch, num_inputs)``.
    ``activation`` is ReLU unless an exercise passes another (``sigmoid``, ``tanh``).
    """

    def __init__(self, num_inputs=784, num_outputs=10, num_hiddens=256, sigma=0.01, device=None,
                 activation=relu):
        self.num_inputs, self.activation = num_inputs, activation
        self.W1 = (torch.randn(num_inputs, num_hiddens) * sigma).to(device).requires_grad_(True)
        self.b1 = torch.zeros(num_hiddens, device=device, requires_grad=True)
        self.W2 = (torch.randn(num_hiddens, num_outputs) * sigma).to(device).requires_grad_(True)
        self.b2 = torch.zeros(num_outputs, device=device, requires_grad=True)

    def __call__(self, X):
        X = X.reshape(-1, self.num_inputs)
        H = self.activation(X @ self.W1 + self.b1)
        return H @ self.W2 + self.b2

    def parameters(self):
        return [self.W1, self.b1, self.W2, self.b2]


# --- model selection: polynomial regression (§4.4) ---------------------------------------


class PolynomialRegression:
    """``y_hat = Xw`` with no bias: the constant feature ``x^0 / 0! = 1`` plays its part (§4.4)."""

    def __init__(self, num_inputs, sigma=0.01, device=None):
        self.w = torch.normal(0, sigma, (num_inputs, 1)).to(device).requires_grad_(True)

    def __call__(self, X):
        return X @ self.w

    def parameters(self):
        return [self.w]


# --- weight decay: the penalty is part of the loss (§4.5) --------------------------------
# The model is Chapter 3's LinearRegression with sigma = 1, the book's init_params.


def l2_penalty(w):
    """The L2 penalty ``||w||^2 / 2`` (§4.5); the 1/2 makes its gradient simply ``w``."""
    return torch.sum(w.pow(2)) / 2


def penalized_loss(w, lambd):
    """Per-example ``squared_loss + lambd * l2_penalty(w)``; its mean is the §4.5 objective.

    The loop takes the mean over the batch, so the minimised objective is
    ``mean(l) + lambd * ||w||^2 / 2``, whose gradient in ``w`` adds ``lambd * w``.
    """
    def loss(y_hat, y):
        return squared_loss(y_hat, y) + lambd * l2_penalty(w)
    return loss


# --- backpropagation by hand (§4.7) ------------------------------------------------------
# Each *_backward takes the gradient of the loss with respect to a layer's output and
# returns the gradients with respect to its inputs: the chain rule, one layer at a time.


def linear_backward(dY, X, W):
    """For ``Y = X W + b``: ``dX = dY W^T``, ``dW = X^T dY``, ``db = sum_rows dY`` (§4.7.3)."""
    return dY @ W.T, X.T @ dY, dY.sum(dim=0)


def relu_backward(dY, Z):
    """For ``H = ReLU(Z)``: ``dZ = dY * [Z > 0]`` (elementwise, §4.7.3)."""
    return dY * relu_grad(Z)


def softmax_cross_entropy_backward(dl, logits, y):
    """For ``l_i = CE(softmax(o_i), y_i)``: ``do_i = dl_i (softmax(o_i) - onehot(y_i))``.

    The §3.4.2 result: the derivative of cross-entropy through softmax is "prediction
    minus truth".
    """
    dO = softmax(logits)
    dO[torch.arange(len(y), device=dO.device), y] -= 1
    return dO * dl.reshape(-1, 1)


def mlp_gradients(X, y, W1, b1, W2, b2):
    """Loss ``mean_i l_i`` of :class:`MLP` and its gradients ``(dW1, db1, dW2, db2)``, no autograd.

    Forward (§4.7.1): ``Z = X W1 + b1``, ``H = ReLU(Z)``, ``O = H W2 + b2``; backward
    (§4.7.3) walks the same graph in reverse, starting from ``dl_i = 1/n`` for the mean.
    """
    with torch.no_grad():
        X = X.reshape(len(X), -1)
        Z = X @ W1 + b1
        H = relu(Z)
        O = H @ W2 + b2
        loss = softmax_cross_entropy(O, y).mean()
        dO = softmax_cross_entropy_backward(torch.full((len(y),), 1 / len(y), dtype=O.dtype,
                                                       device=O.device), O, y)
        dH, dW2, db2 = linear_backward(dO, H, W2)
        dZ = relu_backward(dH, Z)
        _, dW1, db1 = linear_backward(dZ, X, W1)
    return loss, (dW1, db1, dW2, db2)


# The same formulas as autograd Functions, so that the one training loop, which calls
# loss.backward(), runs *our* backward instead of torch's. Autograd only chains them
# (and divides by n for the loop's .mean()); every derivative is one written above.

class Linear(torch.autograd.Function):
    """``Y = X W + b`` whose backward is :func:`linear_backward`."""

    @staticmethod
    def forward(ctx, X, W, b):
        ctx.save_for_backward(X, W)
        return X @ W + b

    @staticmethod
    def backward(ctx, dY):
        X, W = ctx.saved_tensors
        return linear_backward(dY, X, W)


class ReLU(torch.autograd.Function):
    """``max(Z, 0)`` whose backward is :func:`relu_backward`."""

    @staticmethod
    def forward(ctx, Z):
        ctx.save_for_backward(Z)
        return relu(Z)

    @staticmethod
    def backward(ctx, dY):
        (Z,) = ctx.saved_tensors
        return relu_backward(dY, Z)


class SoftmaxCrossEntropy(torch.autograd.Function):
    """Per-example :func:`softmax_cross_entropy` whose backward is the hand-derived one."""

    @staticmethod
    def forward(ctx, logits, y):
        ctx.save_for_backward(logits, y)
        return softmax_cross_entropy(logits, y)

    @staticmethod
    def backward(ctx, dl):
        logits, y = ctx.saved_tensors
        return softmax_cross_entropy_backward(dl, logits, y), None


def hand_softmax_cross_entropy(logits, y):
    """:func:`softmax_cross_entropy` with the hand-written gradient (§4.7)."""
    return SoftmaxCrossEntropy.apply(logits, y)


class HandMLP(MLP):
    """:class:`MLP` whose gradients come from the hand-derived formulas of §4.7, not autograd's."""

    def __call__(self, X):
        X = X.reshape(-1, self.num_inputs)
        H = ReLU.apply(Linear.apply(X, self.W1, self.b1))
        return Linear.apply(H, self.W2, self.b2)


# --- dropout (§4.6) ----------------------------------------------------------------------


def dropout_layer(X, dropout):
    """Zero each element with probability ``p = dropout``, scale the rest by ``1/(1-p)`` (§4.6.4).

    ``E[h'] = (1 - p) * h / (1 - p) = h``: the expectation is unchanged. ``p = 1`` drops
    everything (and would divide by 0, so it returns zeros directly).
    """
    if not 0 <= dropout <= 1:
        raise ValueError(f"dropout_layer: dropout must be a probability in [0, 1], got {dropout}")
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = (torch.rand(X.shape, device=X.device) > dropout).to(X.dtype)
    return mask * X / (1.0 - dropout)


class DropoutMLP:
    """Two hidden ReLU layers, dropout after each while training (§4.6.4).

    ``784 -> 256 -> 256 -> 10``; the book drops 0.2 after the first hidden layer and 0.5
    after the second. Weights ``~ N(0, sigma^2)``, biases 0; ``activation`` as in :class:`MLP`.
    """

    def __init__(self, num_inputs=784, num_outputs=10, num_hiddens1=256, num_hiddens2=256,
                 dropout1=0.2, dropout2=0.5, sigma=0.01, device=None, activation=relu):
        self.num_inputs, self.dropout1, self.dropout2 = num_inputs, dropout1, dropout2
        self.activation = activation
        sizes = [num_inputs, num_hiddens1, num_hiddens2, num_outputs]
        self.Ws = [(torch.randn(a, b) * sigma).to(device).requires_grad_(True)
                   for a, b in zip(sizes, sizes[1:])]
        self.bs = [torch.zeros(b, device=device, requires_grad=True) for b in sizes[1:]]
        self.training = True

    def __call__(self, X):
        X = X.reshape(-1, self.num_inputs)
        H1 = self.activation(X @ self.Ws[0] + self.bs[0])
        if self.training:
            H1 = dropout_layer(H1, self.dropout1)
        H2 = self.activation(H1 @ self.Ws[1] + self.bs[1])
        if self.training:
            H2 = dropout_layer(H2, self.dropout2)
        return H2 @ self.Ws[2] + self.bs[2]

    def parameters(self):
        return [p for pair in zip(self.Ws, self.bs) for p in pair]

    def train(self, mode=True):
        """Dropout on (``mode=True``) or off, like ``nn.Module.train``."""
        self.training = bool(mode)
        return self

    def eval(self):
        return self.train(False)


# --- Xavier initialisation (§4.8.2.3) ----------------------------------------------------


def xavier_uniform(num_inputs, num_outputs, gain=1.0):
    """``W ~ U(-a, a)``, ``a = gain sqrt(6 / (n_in + n_out))``, so ``Var W = 2 / (n_in + n_out)``.

    Shape ``(num_outputs, num_inputs)``, the layout of ``nn.Linear.weight`` (§4.8.2.3).
    """
    a = gain * math.sqrt(6 / (num_inputs + num_outputs))
    return (torch.rand(num_outputs, num_inputs) * 2 - 1) * a


def xavier_normal(num_inputs, num_outputs, gain=1.0):
    """``W ~ N(0, sigma^2)``, ``sigma = gain sqrt(2 / (n_in + n_out))``; shape ``(n_out, n_in)``."""
    return torch.randn(num_outputs, num_inputs) * gain * math.sqrt(2 / (num_inputs + num_outputs))
