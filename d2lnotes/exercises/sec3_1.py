"""§3.1 Linear regression: the best constant, the closed-form solution, Laplace noise."""

import torch

from ..ch3.experiments import compare_linear_regression
from ..utils.data import synthetic_data
from .core import Answer, exercise


@exercise("3.1.1", zh="3.1.1", edition_1_0="3.1.1", kind="derivation",
          question="Which constant b minimises sum_i (x_i - b)^2, and what has that to do with "
                   "the normal distribution?")
def best_constant(seed=0, n=101):
    x = torch.randn(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 2 + 3
    grid = torch.linspace(float(x.min()), float(x.max()), 4001, dtype=torch.float64)
    squared = ((x[None, :] - grid[:, None]) ** 2).sum(dim=1)
    absolute = (x[None, :] - grid[:, None]).abs().sum(dim=1)
    b_squared, b_absolute = float(grid[squared.argmin()]), float(grid[absolute.argmin()])
    mean, median = float(x.mean()), float(x.median())
    return Answer(
        "Setting the derivative -2 sum_i (x_i - b) to zero gives b = (1/n) sum_i x_i, the "
        "mean. It is also the maximum-likelihood location of a Gaussian: -log p(x | b) = "
        "const + sum_i (x_i - b)^2 / (2 sigma^2), the same objective. On "
        f"{n} random numbers a grid search finds b = {b_squared:.4f} against the mean "
        f"{mean:.4f}; with |x_i - b| instead (a Laplace likelihood) it finds "
        f"{b_absolute:.4f}, the median {median:.4f}.",
        {"mean": mean, "grid_argmin_squared": b_squared, "median": median,
         "grid_argmin_absolute": b_absolute, "grid_step": float(grid[1] - grid[0])})


def closed_form(X, y):
    """``w* = (X^T X)^{-1} X^T y``, solved as the normal equations ``X^T X w = X^T y`` (§3.1)."""
    return torch.linalg.solve(X.T @ X, X.T @ y)


@exercise("3.1.2", zh="3.1.2", edition_1_0=None, kind="derivation",
          question="Derive the closed-form solution of linear regression; when is it better than "
                   "SGD, and when does it fail?")
def analytic_solution(seed=0, num_examples=1000):
    true_w, true_b = torch.tensor([2.0, -3.4]), 4.2
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        features, labels = synthetic_data(true_w, true_b, num_examples)
    # The bias as a weight on a column of ones.
    X = torch.cat([features, torch.ones(len(features), 1)], dim=1).double()
    y = labels.double()
    w = closed_form(X, y).flatten()
    lstsq = torch.linalg.lstsq(X, y).solution.flatten()
    sgd = compare_linear_regression(num_examples=num_examples, seed=seed, impl="scratch")
    errors = sgd.extra["scratch"]
    sgd_error = max(abs(e) for e in errors["w_error"] + [errors["b_error"]])
    # A copied feature makes X^T X singular: infinitely many w fit equally well.
    X_dup = torch.cat([X[:, :1], X], dim=1)
    rank = int(torch.linalg.matrix_rank(X_dup.T @ X_dup))
    return Answer(
        "Loss L(w) = ||y - Xw||^2 (the bias folded into X as a column of ones); gradient "
        "-2 X^T (y - Xw); zero gives the normal equations X^T X w = X^T y, so "
        f"w* = (X^T X)^(-1) X^T y. On the section's data this gives w = "
        f"{[round(v, 4) for v in w[:2].tolist()]}, b = {float(w[2]):.4f}, equal to lstsq "
        f"to {float((w - lstsq).abs().max()):.1e}; SGD after 3 epochs is within "
        f"{sgd_error:.1e} of the truth. It beats SGD when there are few features (solving "
        "costs d^3) and the data fit in memory; it fails when X^T X is singular: a copied "
        f"feature gives a {X_dup.shape[1]}x{X_dup.shape[1]} X^T X of rank {rank}.",
        {"w": w, "lstsq": lstsq, "closed_vs_lstsq": float((w - lstsq).abs().max()),
         "true": true_w.tolist() + [true_b], "sgd_max_error": sgd_error,
         "duplicated_column_rank": rank, "duplicated_columns": X_dup.shape[1]})


def laplace_sgd(x, lr, steps, decay, generator):
    """Fit a constant ``b`` to ``x`` by SGD on ``|x_i - b|``, one random example a step.

    The gradient ``-sign(x_i - b)`` has size 1 however close ``b`` is, so with a fixed ``lr``
    the iterate never settles; ``decay`` makes the step ``lr / sqrt(t)``.
    """
    b, path = torch.zeros((), dtype=torch.float64), []
    for t in range(1, steps + 1):
        i = torch.randint(len(x), (1,), generator=generator)
        step = lr / t ** 0.5 if decay else lr
        b = b + step * torch.sign(x[i][0] - b)
        path.append(float(b))
    return torch.tensor(path, dtype=torch.float64)


@exercise("3.1.3", zh="3.1.3", edition_1_0="3.1.5", kind="derivation",
          question="With Laplace noise p(e) = exp(-|e|)/2: write the negative log-likelihood, "
                   "look for a closed form, and say what goes wrong with SGD.")
def laplace_noise(seed=0, steps=1500, lr=0.2):
    generator = torch.Generator().manual_seed(seed)
    u = torch.rand(201, generator=generator, dtype=torch.float64) - 0.5
    x = 3 - torch.sign(u) * torch.log1p(-2 * u.abs())  # Laplace(3, 1) by inverse CDF
    median = float(x.median())
    tail = steps // 3
    fixed = laplace_sgd(x, lr, steps, decay=False, generator=generator)[-tail:]
    decayed = laplace_sgd(x, lr, steps, decay=True, generator=generator)[-tail:]
    return Answer(
        "-log P(y | X) = n log 2 + sum_i |y_i - x_i^T w - b|. It is not differentiable where "
        "a residual is 0 and has no closed form (for a constant model its minimiser is the "
        "median). The SGD gradient -sign(residual) x_i never shrinks, so with a fixed rate "
        "the parameters keep jumping around the optimum; let the rate decay (or smooth the "
        "kink, e.g. Huber's loss). Fitting a constant to 201 Laplace draws, the last "
        f"{tail} of {steps} iterates spread by {float(fixed.std()):.3f} with a fixed "
        f"lr = {lr}, by {float(decayed.std()):.4f} with lr / sqrt(t); both hover near the "
        f"median {median:.3f} (mean of the decayed tail {float(decayed.mean()):.3f}).",
        {"median": median, "fixed_std": float(fixed.std()), "decayed_std": float(decayed.std()),
         "fixed_mean": float(fixed.mean()), "decayed_mean": float(decayed.mean())})
