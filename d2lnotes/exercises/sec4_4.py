"""§4.4 Model selection: polynomial regression solved exactly, losses against the degree and
the amount of data, features without 1/i!, and why the test loss never reaches 0.

Uses the section's data (``ch4.experiments.polynomial_data``: ``y = 5 + 1.2x - 3.4x^2/2! +
5.6x^3/3! + eps``, ``eps ~ N(0, 0.1^2)``). Least squares is solved exactly in float64, so
the losses below are those of the best weights, not of a gradient-descent run.
"""

import torch

from ..ch3.scratch import squared_loss
from ..ch4.experiments import POLY_TRUE_W, fit_polynomial, polynomial_data
from ..utils.errors import DivergenceError
from .core import Answer, exercise


def _data(seed, n_train, n_test=1000, max_degree=20):
    torch.manual_seed(seed)
    features, labels, true_w = polynomial_data(n_train, n_test, max_degree)
    features, labels = features.double(), labels.double()
    return (features[:n_train], labels[:n_train]), (features[n_train:], labels[n_train:]), true_w


def least_squares(X, y):
    """``w* = argmin ||Xw - y||^2``, the solution of the normal equations ``X^T X w = X^T y``."""
    return torch.linalg.lstsq(X, y, driver="gelsd").solution


def _loss(X, y, w):
    return float(squared_loss(X @ w, y).mean())


@exercise("4.4.1", zh="4.4.1", edition_1_0="3.6.1", kind="derivation",
          question="Can the polynomial regression be solved exactly? (Hint: linear algebra.)")
def exact_solution(seed=0, n_train=100):
    (X, y), _, true_w = _data(seed, n_train)
    X = X[:, :len(POLY_TRUE_W)]
    w = least_squares(X, y)
    grad = X.T @ (X @ w - y) / n_train
    values = {"w": w.reshape(-1), "true_w": torch.tensor(POLY_TRUE_W),
              "max_abs_error": float((w.reshape(-1) - true_w[:len(POLY_TRUE_W)]).abs().max()),
              "train_loss": _loss(X, y, w),
              "train_loss_true_w": _loss(X, y, true_w[:len(POLY_TRUE_W)].double().reshape(-1, 1)),
              "max_abs_gradient": float(grad.abs().max())}
    return Answer(
        "Yes: the model is linear in w, so the squared loss is minimised where its gradient "
        "X^T(Xw - y) vanishes, w* = (X^T X)^{-1} X^T y (solved stably by least squares). On "
        f"{n_train} examples with the cubic's 4 features this gives w = "
        f"{[round(v, 3) for v in values['w'].tolist()]} against the true {list(POLY_TRUE_W)} "
        f"(largest error {values['max_abs_error']:.3f}, the noise's doing); its training "
        f"loss {values['train_loss']:.5f} is below the true weights' "
        f"{values['train_loss_true_w']:.5f}, and the gradient there is "
        f"{values['max_abs_gradient']:.1e}.", values)


@exercise("4.4.2", zh="4.4.2", edition_1_0=None, kind="experiment",
          question="Plot training and test loss against the polynomial's degree, and against "
                   "the amount of data. What degree brings the training loss to 0?")
def loss_vs_degree_and_data(seed=0, n_train=100, sizes=(25, 50, 100, 1000), n_small=10):
    (X, y), (X_test, y_test), _ = _data(seed, n_train)
    train_loss, test_loss = [], []
    for d in range(1, X.shape[1] + 1):
        w = least_squares(X[:, :d], y)
        train_loss.append(_loss(X[:, :d], y, w))
        test_loss.append(_loss(X_test[:, :d], y_test, w))
    by_data = {}
    for n in sizes:  # all 20 features: the overfitting model, fed more and more data
        (Xn, yn), (Xn_test, yn_test), _ = _data(seed, n)
        by_data[n] = _loss(Xn_test, yn_test, least_squares(Xn, yn))
    (Xs, ys), _, _ = _data(seed, n_small)
    interpolate = {d: _loss(Xs[:, :d], ys, least_squares(Xs[:, :d], ys))
                   for d in (n_small - 1, n_small)}
    best = 1 + min(range(len(test_loss)), key=test_loss.__getitem__)
    values = {"num_features": list(range(1, X.shape[1] + 1)), "train_loss": train_loss,
              "test_loss": test_loss, "best_num_features": best,
              "test_loss_20_features_by_n_train": by_data,
              "n_small": n_small, "train_loss_small_by_num_features": interpolate}
    return Answer(
        f"With {n_train} training examples and d features 1, x, ..., x^(d-1)/(d-1)!, the "
        "training loss can only fall as d grows (each model contains the smaller ones): "
        f"{train_loss[0]:.3f} at d = 1, {train_loss[3]:.5f} at d = 4 (the cubic), "
        f"{train_loss[-1]:.5f} at d = 20. The test loss falls to its minimum at d = {best} "
        f"({min(test_loss):.5f}), near the true d = 4, and then grows without bound "
        f"({test_loss[-1]:.3g} at d = 20): the exact fit of 20 features chases the noise. "
        "More data tames the 20-feature model: its test loss by training-set size is "
        + ", ".join(f"{n}: {v:.4f}" for n, v in by_data.items())
        + f". The training loss reaches 0 once there are as many features as examples: with "
        f"{n_small} examples it is {interpolate[n_small - 1]:.1e} at d = {n_small - 1} and "
        f"{interpolate[n_small]:.1e} at d = {n_small} (degree {n_small - 1} interpolates).",
        values)


def _fit_or_none(train, test, num_epochs, lr, seed):
    try:
        cmp = fit_polynomial(train[0], test[0], train[1], test[1], num_epochs=num_epochs,
                             lr=lr, seed=seed)
    except DivergenceError:
        return None
    return cmp.histories["scratch"].train_loss[-1]


@exercise("4.4.3", zh="4.4.3", edition_1_0=None, kind="experiment",
          question="What happens without the 1/i! scaling of the features x^i, and how else "
                   "could it be fixed?")
def without_factorials(seed=0, n_train=100, num_epochs=10, lr=0.02):
    torch.manual_seed(seed)
    features, labels, _ = polynomial_data(n_train, 100)
    i = torch.arange(features.shape[1], dtype=torch.float64)
    raw = (features.double() * torch.exp(torch.lgamma(i + 1))).float()  # x^i, no 1/i!
    # Another fix: shrink x into [-1, 1] before taking powers, so that every x^i is too.
    c = features[:n_train, 1].abs().max()
    rescaled = (features[:, 1:2] / c) ** torch.arange(features.shape[1])
    losses = [_fit_or_none((f[:n_train], labels[:n_train]), (f[n_train:], labels[n_train:]),
                           num_epochs, lr, seed) for f in (features, raw, rescaled)]
    book, unscaled, scaled = losses
    values = {"largest_raw_feature": float(raw[:n_train].abs().max()),
              "largest_scaled_feature": float(features[:n_train].abs().max()),
              "train_loss_book": book, "train_loss_unscaled": unscaled,
              "train_loss_rescaled_x": scaled}
    return Answer(
        f"x^19 reaches {values['largest_raw_feature']:.1e} on these inputs (with 1/i! the "
        f"largest feature is {values['largest_scaled_feature']:.1f}), so the gradient of the "
        "high powers swamps everything and gradient descent at the book's rate diverges: "
        f"{'the loss became inf/NaN' if unscaled is None else f'loss {unscaled:.3g}'} within "
        f"{num_epochs} epochs. Another fix is to rescale x into [-1, 1] before taking powers "
        "(divide by the largest |x| in the training set), so that every power stays in "
        f"[-1, 1]: it no longer diverges (training loss {scaled:.3f} after {num_epochs} epochs, "
        f"slower than 1/i!'s {book:.3f}, as the cubic's weights must now grow by powers of "
        "that largest |x|). Solving exactly (4.4.1) avoids the step size altogether.", values)


@exercise("4.4.4", zh="4.4.4", edition_1_0="3.6.3", kind="derivation",
          question="Can we ever expect zero generalisation error?")
def zero_generalisation_error(seed=0, n=100_000, noise=0.1):
    torch.manual_seed(seed)
    features, labels, true_w = polynomial_data(0, n, noise=noise)
    loss = _loss(features.double(), labels.double(), true_w.double().reshape(-1, 1))
    values = {"test_loss_of_true_w": loss, "noise_floor": noise ** 2 / 2}
    return Answer(
        "Not when the labels are noisy: even the true weights pay for the noise. Here "
        f"y carries N(0, {noise}^2) noise, so the expected squared loss (1/2)(y_hat - y)^2 of "
        f"the perfect model is {noise}^2 / 2 = {values['noise_floor']:.4f}; measured on "
        f"{n} fresh examples it is {loss:.4f}. Only a noiseless, fully determined problem "
        "(labels a fixed function of the inputs, which the model class contains, and enough "
        "data to pin it down) allows 0.", values)

