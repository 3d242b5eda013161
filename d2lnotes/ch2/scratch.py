"""Chapter 2 by hand: finite differences, loops over Python numbers, the csv module and
inverse-CDF sampling.

Each function has a twin in ``concise.py`` (what torch or pandas gives you) with the same
arguments, and the tests check that every pair agrees.
"""

import csv
import math

import torch

# --- calculus (§2.4) and the gradient autograd should find (§2.5) -----------------------------


def numerical_lim(f, x, h):
    """The forward difference ``(f(x + h) - f(x)) / h`` that the book tabulates (§2.4.1)."""
    return (f(x + h) - f(x)) / h


def numerical_grad(f, x, h=1e-5):
    """The gradient of a scalar ``f`` at ``x`` by central differences (§2.4.3).

    ``df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / 2h``, one pair of calls per element; the
    error is ``O(h^2)``. ``x`` is copied to float64 so that ``h`` is not lost to rounding.
    """
    x = torch.as_tensor(x).detach().to(torch.float64).clone()
    grad = torch.empty_like(x)
    flat, g = x.view(-1), grad.view(-1)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + h
        f_plus = float(f(x))
        flat[i] = old - h
        f_minus = float(f(x))
        flat[i] = old
        g[i] = (f_plus - f_minus) / (2 * h)
    return grad


def grad_of_2xx(x):
    """The gradient of the book's ``y = 2 x^T x``, derived by hand: ``dy/dx = 4x`` (§2.5.1)."""
    return 4 * x


# --- tensors: broadcasting (§2.1.4) -----------------------------------------------------------


def broadcast_shape(*shapes):
    """The shape that broadcasting gives, by the rules (§2.1.4).

    Align the shapes at their last axis and pad the shorter ones with 1s on the left; on
    each axis the sizes must be equal or one of them 1, and the result takes the other.
    Raises ``ValueError`` for shapes that do not broadcast.
    """
    ndim = max((len(s) for s in shapes), default=0)
    result = []
    for axis in range(-ndim, 0):
        size = 1
        for shape in shapes:
            n = shape[axis] if len(shape) >= -axis else 1
            if n == 1 or n == size:
                continue
            if size != 1:
                raise ValueError(f"shapes {', '.join(str(tuple(s)) for s in shapes)} do not "
                                 f"broadcast: sizes {size} and {n} clash on axis {axis}")
            size = n
        result.append(size)
    return tuple(result)


# --- linear algebra with loops over Python numbers (§2.3) -------------------------------------


def _numbers(v):
    return v.tolist() if hasattr(v, "tolist") else v


def dot(x, y):
    """The dot product ``x^T y = sum_i x_i y_i`` (§2.3.7)."""
    x, y = _numbers(x), _numbers(y)
    if len(x) != len(y):
        raise ValueError(f"dot: lengths {len(x)} and {len(y)} differ")
    return sum(a * b for a, b in zip(x, y))


def mv(A, x):
    """The matrix-vector product ``(Ax)_i = a_i^T x``, one dot product per row (§2.3.8)."""
    return [dot(row, _numbers(x)) for row in _numbers(A)]


def mm(A, B):
    """The matrix product ``C_ij = a_i^T b_j``, rows of A with columns of B (§2.3.9)."""
    A, B = _numbers(A), _numbers(B)
    columns = list(zip(*B))
    if A and len(A[0]) != len(B):
        raise ValueError(f"mm: A has {len(A[0])} columns but B has {len(B)} rows")
    return [[dot(row, col) for col in columns] for row in A]


def norm_l1(x):
    """The L1 norm ``||x||_1 = sum_i |x_i|`` (§2.3.10)."""
    return sum(abs(v) for v in _numbers(x))


def norm_l2(x):
    """The L2 norm ``||x||_2 = sqrt(sum_i x_i^2)`` (§2.3.10)."""
    return math.sqrt(sum(v * v for v in _numbers(x)))


def norm_frobenius(X):
    """The Frobenius norm ``||X||_F = sqrt(sum_ij x_ij^2)``, L2 of the entries (§2.3.10)."""
    return math.sqrt(sum(v * v for row in _numbers(X) for v in row))


# --- data preprocessing with the csv module (§2.2) --------------------------------------------

MISSING = ("", "NA", "NaN", "nan")


def _number(text):
    try:
        return float(text)
    except ValueError:
        return None


def read_house_tiny(path, dtype=torch.float64):
    """Read the book's ``house_tiny.csv`` into ``(inputs, outputs)`` tensors (§2.2).

    The last column is the target. A numeric input column has its missing values replaced
    by the column mean; any other column becomes one 0/1 column per category (sorted, as
    ``pd.get_dummies`` does) plus a ``<name>_nan`` column for missing ones. Numeric columns
    come first, then the one-hot ones, the order ``get_dummies`` uses. Returns the tensors
    and the input column names.
    """
    with open(path, newline="") as f:
        header, *rows = list(csv.reader(f))
    columns = {name: [None if r[i] in MISSING else r[i] for r in rows]
               for i, name in enumerate(header)}
    *input_names, target = header
    numeric, one_hot = {}, {}
    for name in input_names:
        values = columns[name]
        if all(v is None or _number(v) is not None for v in values):
            present = [float(v) for v in values if v is not None]
            mean = sum(present) / len(present) if present else math.nan
            numeric[name] = [mean if v is None else float(v) for v in values]
        else:
            for category in sorted({v for v in values if v is not None}):
                one_hot[f"{name}_{category}"] = [float(v == category) for v in values]
            one_hot[f"{name}_nan"] = [float(v is None) for v in values]
    table = {**numeric, **one_hot}
    inputs = torch.tensor(list(zip(*table.values())), dtype=dtype)
    outputs = torch.tensor([_number(v) if v is not None else math.nan for v in columns[target]],
                           dtype=dtype)
    return inputs, outputs, list(table)


# --- probability: rolling a die by inverse-CDF sampling (§2.6) --------------------------------


def sample_categorical(probs, n, generator=None):
    """Draw ``n`` outcomes from ``probs`` by inverse-CDF sampling (§2.6.1).

    With ``u ~ U[0, 1)`` the outcome is the first ``k`` whose cumulative probability
    ``F(k) = p_0 + ... + p_k`` exceeds ``u``, i.e. the number of ``F(k) <= u``.
    """
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    return inverse_cdf(probs, u)


def inverse_cdf(probs, u):
    """Map uniforms ``u`` to outcomes: ``k = #{j : F(j) <= u}`` with ``F`` the cumulative sum."""
    probs = torch.as_tensor(probs, dtype=torch.float64)
    cdf = probs.cumsum(0) / probs.sum()
    cdf[-1] = 1.0  # rounding can leave F(last) just under 1, and then u could land past it
    return (u.reshape(-1, 1) >= cdf).sum(dim=1).reshape(u.shape)


def multinomial_counts(total_count, probs, num_samples, generator=None):
    """``num_samples`` rows of outcome counts from ``total_count`` draws each (§2.6.1).

    ``Multinomial(total_count, probs).sample((num_samples,))`` draws the rolls in the
    order ``(total_count, num_samples)`` and, on CPU, by inverse-CDF sampling too; drawing
    in that order here makes the same seed give the same counts.
    """
    k = len(probs)
    outcomes = sample_categorical(probs, total_count * num_samples, generator)
    rolls = outcomes.reshape(total_count, num_samples)
    # One-hot then sum over the rolls: counts[i, j] = how many rolls of sample i came out j.
    counts = (rolls.unsqueeze(-1) == torch.arange(k)).sum(dim=0)
    return counts.to(torch.float32)


def chi_square(counts, probs):
    """Pearson's statistic ``sum_k (n_k - N p_k)^2 / (N p_k)`` for observed ``counts`` (§2.6)."""
    counts, probs = _numbers(counts), _numbers(probs)
    total = sum(counts)
    return sum((n - total * p) ** 2 / (total * p) for n, p in zip(counts, probs))


def chi_square_sf(x, dof):
    """``P(X >= x)`` for ``X ~ chi^2(dof)``, by the closed forms for whole ``dof``.

    Even ``dof = 2m``: ``e^(-x/2) sum_{j<m} (x/2)^j / j!``. Odd ``dof = 2m+1``:
    ``erfc(sqrt(x/2)) + e^(-x/2) sum_{j=1..m} (x/2)^(j-1/2) / Gamma(j + 1/2)``.
    """
    half = x / 2
    if dof % 2 == 0:
        return math.exp(-half) * sum(half ** j / math.factorial(j) for j in range(dof // 2))
    tail = sum(half ** (j - 0.5) / math.gamma(j + 0.5) for j in range(1, dof // 2 + 1))
    return math.erfc(math.sqrt(half)) + math.exp(-half) * tail
