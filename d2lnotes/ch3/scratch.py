"""Chapter 3 from scratch: linear and softmax regression with raw tensors and autograd.

Every piece has the same surface as its ``torch.nn`` / ``torch.optim`` twin in
``concise.py`` (callable, ``parameters()``, ``step()`` / ``zero_grad()``), so the one
loop in ``d2lnotes.utils.train`` trains both.
"""

import torch

# --- linear regression (§3.2) ------------------------------------------------------------


def linreg(X, w, b):
    """The linear model ``y_hat = Xw + b`` (§3.2)."""
    if w.ndim not in (1, 2) or X.ndim == 0:
        raise ValueError(f"linreg: w must be a vector or a (num_inputs, num_outputs) matrix and "
                         f"X at least a vector, got X {tuple(X.shape)} and w {tuple(w.shape)}")
    if X.shape[-1] != w.shape[0]:
        raise ValueError(f"linreg: X has {X.shape[-1]} features (shape {tuple(X.shape)}) "
                         f"but w has {w.shape[0]} rows (shape {tuple(w.shape)})")
    y_hat = X @ w
    b_shape = torch.as_tensor(b).shape
    try:  # b may broadcast into Xw, but never grow it
        fits = torch.broadcast_shapes(y_hat.shape, b_shape) == y_hat.shape
    except RuntimeError:
        fits = False
    if not fits:
        raise ValueError(f"linreg: b of shape {tuple(b_shape)} does not fit the output Xw of "
                         f"shape {tuple(y_hat.shape)} (X {tuple(X.shape)}, w {tuple(w.shape)})")
    return y_hat + b


def squared_loss(y_hat, y):
    """Per-example squared loss ``l = (y_hat - y)^2 / 2`` (§3.1)."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


class SGD:
    """Minibatch SGD with ``torch.optim.SGD``'s surface: ``p <- p - lr * grad`` (§3.2).

    The loop minimises a *mean* loss, so this is the book's ``sgd(params, lr, batch_size)``
    on a summed loss; that convention lives in the book API only.
    """

    def __init__(self, params, lr):
        self.params, self.lr = list(params), lr

    def step(self):
        with torch.no_grad():
            for param in self.params:
                param -= self.lr * param.grad

    def zero_grad(self):
        for param in self.params:
            param.grad = None


class LinearRegression:
    """``y_hat = Xw + b`` with ``w ~ N(0, sigma^2)``, ``b = 0`` as plain tensors (§3.4)."""

    def __init__(self, num_inputs, sigma=0.01, device=None):
        self.w = torch.normal(0, sigma, (num_inputs, 1)).to(device).requires_grad_(True)
        self.b = torch.zeros(1, device=device, requires_grad=True)

    def __call__(self, X):
        return linreg(X, self.w, self.b)

    def parameters(self):
        return [self.w, self.b]


# --- softmax regression (§3.6) -----------------------------------------------------------


def softmax_naive(X):
    """The book's first softmax, ``exp(X_ij) / sum_k exp(X_ik)`` (§3.6).

    It overflows: in float32 ``exp(x)`` is ``inf`` for ``x > 88.7``, and ``inf / inf``
    is ``nan``, so a logit of 100 already breaks it. Kept to show why: try it with
    ``SoftmaxRegression(softmax=softmax_naive)``.
    """
    X_exp = torch.exp(X)
    return X_exp / X_exp.sum(1, keepdim=True)


def softmax(X):
    """Stable softmax, ``exp(X_ij - m_i) / sum_k exp(X_ik - m_i)`` with ``m_i = max_k X_ik`` (§3.7).

    Subtracting the row maximum changes nothing mathematically (it cancels) but keeps
    every exponent <= 0, so nothing overflows and the largest term is exactly 1.
    """
    X_exp = torch.exp(X - X.max(dim=1, keepdim=True).values)
    return X_exp / X_exp.sum(1, keepdim=True)


def check_labels(y, num_classes, who):
    """Integer class labels ``y`` as int64; TypeError or ValueError naming what is wrong.

    Any integer dtype is accepted (the IDX files hold uint8). The range check reads values
    back, which would stall a GPU every batch, so it runs on the CPU only.
    """
    if torch.is_floating_point(y) or torch.is_complex(y) or y.dtype == torch.bool or y.ndim != 1:
        raise TypeError(f"{who}: y must be a 1-D tensor of integer class labels, "
                        f"got dtype {y.dtype} and shape {tuple(y.shape)}")
    y = y.long()  # uint8 would index as a mask
    if y.device.type == "cpu" and len(y):
        low, high = torch.aminmax(y)
        if low < 0 or high >= num_classes:
            i = int(torch.nonzero((y < 0) | (y >= num_classes))[0])
            raise ValueError(f"{who}: labels must lie in [0, {num_classes - 1}], got "
                             f"{int(y[i])} at position {i}")
    return y


def cross_entropy(y_hat, y):
    """Per-example cross-entropy ``l = -log y_hat[i, y_i]`` of predicted probabilities (§3.6)."""
    if y_hat.ndim != 2 or y.ndim != 1 or len(y_hat) != len(y):
        check_labels(y, 0, "cross_entropy")  # a bad dtype is the clearer message
        raise ValueError(f"cross_entropy: y_hat must have shape (n, classes) with n = len(y) "
                         f"= {len(y)}, got {tuple(y_hat.shape)}")
    y = check_labels(y, y_hat.shape[1], "cross_entropy")
    return -torch.log(y_hat[torch.arange(len(y_hat), device=y_hat.device), y])


class SoftmaxRegression:
    """``y_hat = softmax(XW + b)`` with ``W ~ N(0, sigma^2)``, ``b = 0`` (§3.6).

    ``X`` is flattened to ``(batch, num_inputs)`` first, as images are ``(batch, 1, 28, 28)``.
    ``softmax`` is the stable one unless an exercise passes another (``softmax_naive``).
    """

    def __init__(self, num_inputs=784, num_outputs=10, sigma=0.01, device=None, softmax=softmax):
        self.W = torch.normal(0, sigma, (num_inputs, num_outputs)).to(device).requires_grad_(True)
        self.b = torch.zeros(num_outputs, device=device, requires_grad=True)
        self.softmax = softmax

    def __call__(self, X):
        return self.softmax(X.reshape(-1, self.W.shape[0]) @ self.W + self.b)

    def parameters(self):
        return [self.W, self.b]
