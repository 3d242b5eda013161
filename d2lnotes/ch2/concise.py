"""Chapter 2 with what torch and pandas give you: autograd, ``torch.broadcast_shapes``,
``torch.dot/mv/mm/norm``, ``pd.get_dummies`` and ``torch.distributions.Multinomial``.

Each function is the twin of one in ``scratch.py``, with the same arguments.
"""

import pandas as pd
import torch

# --- automatic differentiation (§2.5) ---------------------------------------------------------


def grad(f, x):
    """``df/dx`` at ``x`` by autograd: track ``x``, build ``y = f(x)``, ``y.backward()`` (§2.5.1).

    The four steps of the book. ``x`` is copied first, so the caller's tensor keeps no
    ``.grad`` and the result never accumulates into an old one.
    """
    x = torch.as_tensor(x).detach().clone().requires_grad_(True)
    y = f(x)
    y.backward()
    return x.grad


# --- tensors and linear algebra (§2.1, §2.3) --------------------------------------------------


def broadcast_shape(*shapes):
    """The broadcast shape by ``torch.broadcast_shapes`` (§2.1.4); ``RuntimeError`` if none."""
    return tuple(torch.broadcast_shapes(*shapes))


def dot(x, y):
    """``x^T y`` by ``torch.dot`` (§2.3.7)."""
    return torch.dot(x, y)


def mv(A, x):
    """``Ax`` by ``torch.mv`` (§2.3.8)."""
    return torch.mv(A, x)


def mm(A, B):
    """``AB`` by ``torch.mm`` (§2.3.9)."""
    return torch.mm(A, B)


def norm_l1(x):
    """``||x||_1`` as ``torch.abs(x).sum()`` (§2.3.10)."""
    return torch.abs(x).sum()


def norm_l2(x):
    """``||x||_2`` by ``torch.norm`` (§2.3.10)."""
    return torch.norm(x)


def norm_frobenius(X):
    """``||X||_F`` by ``torch.norm`` on a matrix (§2.3.10)."""
    return torch.norm(X)


# --- data preprocessing with pandas (§2.2) ----------------------------------------------------


def read_house_tiny(path, dtype=torch.float64):
    """Read ``house_tiny.csv`` with pandas: mean ``fillna``, ``get_dummies(dummy_na=True)`` (§2.2).

    Written to work on pandas 2 and 3, where the book's code fails twice: ``mean()`` over a
    frame with a string column raises (so ``numeric_only=True``), and the dummy columns are
    bool, which makes ``.values`` an object array torch cannot read (so convert to float).
    Returns ``(inputs, outputs, input_column_names)`` like ``scratch.read_house_tiny``.
    """
    data = pd.read_csv(path)
    inputs, outputs = data.iloc[:, :-1], data.iloc[:, -1]
    inputs = inputs.fillna(inputs.mean(numeric_only=True))
    inputs = pd.get_dummies(inputs, dummy_na=True)
    return (torch.tensor(inputs.to_numpy(dtype=float), dtype=dtype),
            torch.tensor(outputs.to_numpy(dtype=float), dtype=dtype),
            [str(c) for c in inputs.columns])


# --- probability (§2.6) -----------------------------------------------------------------------


def multinomial_counts(total_count, probs, num_samples):
    """``num_samples`` rows of counts by ``Multinomial(total_count, probs).sample`` (§2.6.1)."""
    dist = torch.distributions.Multinomial(total_count, torch.as_tensor(probs))
    return dist.sample((num_samples,))


def running_estimates(counts):
    """Frequency of each outcome after each group: cumulative counts / their total (§2.6.1)."""
    cum_counts = counts.cumsum(dim=0)
    return cum_counts / cum_counts.sum(dim=1, keepdim=True)
