"""§4.5 Weight decay: lambda swept and chosen on validation data, the L1 update, the
Frobenius norm, and the penalty as a Gaussian prior.

The experiments reuse the section's problem (``ch4.experiments.weight_decay_data``: 200
inputs, 20 training examples) and its scratch model, penalty and optimizer.
"""

import functools

import torch

from ..ch3.scratch import LinearRegression, squared_loss
from ..ch4 import scratch, variants
from ..ch4.experiments import weight_decay_data
from ..utils.data import load_array, synthetic_data
from ..utils.train import INIT_AFTER_DATA_SEED_OFFSET, SHUFFLE_SEED_OFFSET, evaluate, train
from .core import Answer, exercise

LAMBDAS = (0, 1, 3, 10, 30)


def _train(lambd, train_data, test_data, num_epochs, lr=0.003, batch_size=5, seed=0):
    """The §4.5 scratch model trained with penalty ``lambd``; ``(net, train loss, test loss)``.

    ``train_weight_decay``'s scratch half, without its per-epoch curves and concise twin.
    """
    torch.manual_seed(seed + INIT_AFTER_DATA_SEED_OFFSET)
    net = LinearRegression(train_data[0].shape[1], sigma=1.0)
    torch.manual_seed(seed + SHUFFLE_SEED_OFFSET)
    train(net, load_array(train_data, batch_size), None, scratch.penalized_loss(net.w, lambd),
          num_epochs, scratch.SGD(net.parameters(), lr), quiet=True)
    return (net, evaluate(net, load_array(train_data, len(train_data[1])), squared_loss)[0],
            evaluate(net, load_array(test_data, len(test_data[1])), squared_loss)[0])


@functools.lru_cache(maxsize=32)
def _run(lambd, seed, num_epochs):
    torch.manual_seed(seed)
    train_data, test_data = weight_decay_data()
    return _train(lambd, train_data, test_data, num_epochs, seed=seed)


def _sweep(lambdas, seed, num_epochs):
    """``{lambd: (net, train loss, test loss)}``, all on the data drawn from ``seed``."""
    return {lambd: _run(lambd, seed, num_epochs) for lambd in lambdas}


@exercise("4.5.1", zh="4.5.1", edition_1_0="3.7.1", kind="experiment",
          question="Sweep lambda in the section's problem and plot training and test error "
                   "against it: what do you see?")
def lambda_sweep(lambdas=LAMBDAS, seed=0, num_epochs=100):
    runs = _sweep(lambdas, seed, num_epochs)
    train_loss = {k: r[1] for k, r in runs.items()}
    test_loss = {k: r[2] for k, r in runs.items()}
    w_norm = {k: float(torch.norm(r[0].w.detach())) for k, r in runs.items()}

    def row(d):
        return ", ".join(f"{k}: {v:.3g}" for k, v in d.items())

    return Answer(
        "This is regression, so the error is the squared loss. As lambda grows, ||w|| "
        f"shrinks ({row(w_norm)}) and the training loss rises ({row(train_loss)}): with 20 "
        "examples and 200 weights, lambda = 0 fits the training set almost perfectly. The "
        f"test loss ({row(test_loss)}) falls as the penalty curbs that overfitting, down to "
        f"its best at lambda = {min(test_loss, key=test_loss.get)} ({num_epochs} epochs). "
        "From lambda = 10 on, w is nearly 0 and the test loss sits near that of predicting "
        "the bias alone (0.01 here, since the true w = 0.01 per input is tiny): with 20 "
        "examples for 200 weights, shrinking almost everything is the best one can do.",
        {"train_loss": train_loss, "test_loss": test_loss, "w_norm": w_norm})


@exercise("4.5.2", zh="4.5.2", edition_1_0="3.7.2", kind="experiment",
          question="Pick lambda on a validation set: is it really the best one, and does "
                   "that matter?")
def validation_lambda(lambdas=(0, 0.3, 1, 3, 10, 30, 100), seed=0, num_epochs=100,
                      n_valid=100):
    runs = _sweep(lambdas, seed, num_epochs)
    torch.manual_seed(seed + 10)
    X_valid, y_valid = synthetic_data(torch.full((200,), 0.01), 0.05, n_valid)
    valid_loss, test_loss = {}, {}
    for lambd, (net, _, test) in runs.items():
        with torch.no_grad():
            valid_loss[lambd] = float(squared_loss(net(X_valid), y_valid).mean())
        test_loss[lambd] = test
    chosen = min(valid_loss, key=valid_loss.get)
    best = min(test_loss, key=test_loss.get)
    values = {"valid_loss": valid_loss, "test_loss": test_loss, "chosen": chosen,
              "best_on_test": best, "test_loss_chosen": test_loss[chosen],
              "test_loss_best": test_loss[best], "test_loss_no_decay": test_loss[0]}
    return Answer(
        f"A fresh validation set of {n_valid} examples picks lambda = {chosen}; on the test "
        f"set the best would have been {best} (test loss {test_loss[chosen]:.4f} for the "
        f"choice against {test_loss[best]:.4f} at best and {test_loss[0]:.4f} without "
        "decay). The validation estimate is noisy and the grid coarse, so the choice is "
        "optimal only for the validation sample; it matters little as long as the test "
        "loss is flat near the optimum, and a choice made on the test set would make the "
        "test loss an optimistic estimate.", values)


@exercise("4.5.3", zh="4.5.3", edition_1_0="3.7.3", kind="derivation",
          question="What is the update rule with the L1 penalty sum_i |w_i| instead of "
                   "||w||^2?")
def l1_update(lambd=0.5, lr=0.1, seed=0):
    gen = torch.Generator().manual_seed(seed)
    X, w = torch.randn(8, 5, generator=gen), torch.randn(5, 1, generator=gen)
    y = torch.randn(8, 1, generator=gen)
    w_auto = w.clone().requires_grad_(True)
    loss = squared_loss(X @ w_auto, y).mean() + lambd * variants.l1_penalty(w_auto)
    loss.backward()
    optimizer = scratch.SGD([w_auto], lr)
    optimizer.step()
    data_grad = X.T @ (X @ w - y) / len(y)
    w_hand = w - lr * (data_grad + lambd * torch.sign(w))
    values = {"max_abs_diff": float((w_auto.detach() - w_hand).abs().max())}
    return Answer(
        "The penalty lambda sum_i |w_i| has (sub)gradient lambda sign(w_i), so each step is "
        "w <- w - lr (grad of the loss + lambda sign(w)): every weight moves towards 0 by the "
        "same amount lr lambda, whatever its size (L2 shrinks in proportion to w). Small "
        "weights reach 0 and stay near it, which makes L1 choose features. An SGD step on "
        "loss + lambda ||w||_1 with autograd matches this rule to "
        f"{values['max_abs_diff']:.1e}.", values)


@exercise("4.5.4", zh="4.5.4", edition_1_0="3.7.4", kind="fact",
          question="||w||^2 = w^T w; what is the matching formula for a matrix?")
def frobenius(seed=0):
    gen = torch.Generator().manual_seed(seed)
    W = torch.randn(4, 3, dtype=torch.float64, generator=gen)
    values = {"frobenius_squared": float(torch.linalg.matrix_norm(W) ** 2),
              "trace_WtW": float(torch.trace(W.T @ W)),
              "sum_of_squares": float((W ** 2).sum())}
    return Answer(
        "The Frobenius norm: ||W||_F^2 = sum_ij W_ij^2 = tr(W^T W) (= tr(W W^T)), the matrix "
        "read as one long vector. For a random 4 x 3 W: ||W||_F^2 = "
        f"{values['frobenius_squared']:.6f}, tr(W^T W) = {values['trace_WtW']:.6f}, "
        f"sum of squares = {values['sum_of_squares']:.6f}. Weight decay on a layer uses it.",
        values)


@exercise("4.5.6", zh="4.5.6", edition_1_0="3.7.6", kind="derivation",
          question="Which prior P(w) turns the posterior P(w | x) ~ P(x | w) P(w) into "
                   "weight decay?")
def gaussian_prior(n=50, d=5, noise=0.5, prior_std=0.3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, dtype=torch.float64, generator=gen)
    y = X @ torch.randn(d, 1, dtype=torch.float64, generator=gen) \
        + noise * torch.randn(n, 1, dtype=torch.float64, generator=gen)
    lambd = noise ** 2 / (n * prior_std ** 2)
    eye = torch.eye(d, dtype=torch.float64)
    # argmin mean((Xw - y)^2) / 2 + lambd ||w||^2 / 2
    w_decay = torch.linalg.solve(X.T @ X / n + lambd * eye, X.T @ y / n)
    # mean of the Gaussian posterior for y ~ N(Xw, noise^2), w ~ N(0, prior_std^2 I)
    w_posterior = torch.linalg.solve(X.T @ X / noise ** 2 + eye / prior_std ** 2,
                                     X.T @ y / noise ** 2)
    values = {"lambd": lambd, "max_abs_diff": float((w_decay - w_posterior).abs().max())}
    return Answer(
        "A Gaussian prior w ~ N(0, tau^2 I): -log P(w) = ||w||^2 / (2 tau^2) + const. With "
        "Gaussian noise of variance sigma^2, -log P(y | X, w) = sum_i (y_i - x_i w)^2 / "
        "(2 sigma^2) + const; dividing the negative log posterior by n / sigma^2 gives the "
        "mean squared loss plus (lambda/2)||w||^2 with lambda = sigma^2 / (n tau^2). So weight "
        "decay finds the most probable w (the MAP estimate). With sigma = "
        f"{noise}, tau = {prior_std}, n = {n} (lambda = {lambd:.4f}), the weight-decay "
        "solution and the posterior mean differ by "
        f"{values['max_abs_diff']:.1e}. (An L1 penalty is a Laplace prior.)", values)
