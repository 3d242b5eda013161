"""§3.2 Linear regression from scratch: zero init, two physics fits, second derivatives,
the reshape in the loss, learning rates, and the last minibatch."""

import math

import torch

from ..ch3 import scratch
from ..utils.data import load_array, synthetic_data
from ..utils.errors import DivergenceError
from ..utils.train import train
from .core import Answer, exercise

TRUE_W, TRUE_B = torch.tensor([2.0, -3.4]), 4.2


def section_data(seed=0, num_examples=1000):
    """The section's synthetic data, ``y = X [2, -3.4] + 4.2 + noise``, drawn from ``seed``."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return synthetic_data(TRUE_W, TRUE_B, num_examples)


def fit_linear(features, labels, lr=0.03, num_epochs=3, batch_size=10, seed=0, zero_init=False):
    """Train the chapter's scratch linear regression with the one loop; return (net, history)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = scratch.LinearRegression(features.shape[1])
        if zero_init:
            with torch.no_grad():
                net.w.zero_()
        history = train(net, load_array((features, labels), batch_size), None,
                        scratch.squared_loss, num_epochs, scratch.SGD(net.parameters(), lr),
                        quiet=True)
    return net, history


@exercise("3.2.1", zh="3.2.1", edition_1_0="3.4.1", kind="experiment",
          question="Initialise the weights to zero: does training still work?")
def zero_init(seed=0, num_examples=1000):
    features, labels = section_data(seed, num_examples)
    results = {}
    for name, zero in (("zero", True), ("normal", False)):
        net, history = fit_linear(features, labels, seed=seed, zero_init=zero)
        w = net.w.detach().flatten()
        results[name] = {"w_error": float((w - TRUE_W).abs().max()),
                         "b_error": abs(float(net.b.detach()) - TRUE_B),
                         "loss": history.train_loss[-1]}
    z = results["zero"]
    return Answer(
        "Yes. Zero initialisation breaks symmetry only in networks with hidden units, whose "
        "identical units would get identical gradients; here each weight's gradient "
        "x_j (y_hat - y) differs by feature, and the loss is convex anyway. From w = 0, b = 0 "
        f"the book's 3 epochs reach errors of {z['w_error']:.1e} in w and {z['b_error']:.1e} "
        f"in b (loss {z['loss']:.1e}), as the N(0, 0.01^2) start does "
        f"({results['normal']['w_error']:.1e}, {results['normal']['b_error']:.1e}).",
        results)


@exercise("3.2.2", zh="3.2.2", edition_1_0="3.4.2", kind="experiment",
          question="Could automatic differentiation learn the parameters of Ohm's law from "
                   "measured voltages and currents?")
def ohms_law(seed=0, resistance=4.7, num_examples=200):
    generator = torch.Generator().manual_seed(seed)
    current = 0.1 + 1.9 * torch.rand(num_examples, 1, generator=generator)  # amperes
    voltage = resistance * current + 0.02 * torch.randn(num_examples, 1, generator=generator)
    net, history = fit_linear(current, voltage, lr=0.3, num_epochs=20, seed=seed)
    R, offset = float(net.w.detach()), float(net.b.detach())
    return Answer(
        f"Yes: U = R I is linear regression with one feature. On {num_examples} noisy "
        f"measurements (R = {resistance} ohm, noise 20 mV) the chapter's scratch model and "
        f"loop, its gradients from autograd, learn R = {R:.3f} ohm and an offset of "
        f"{offset * 1000:+.1f} mV (the true one is 0).",
        {"R": R, "offset": offset, "true_R": resistance, "loss": history.train_loss[-1]})


# Planck's law in wavelength, up to a constant factor: B ~ x^-5 / (exp(C2 / (x T)) - 1),
# with x in micrometres and C2 = h c / k_B in micrometre kelvin.
C2 = 14387.77


def log_planck(x, T, log_scale):
    """``log B(x, T)`` for wavelengths ``x`` (µm), up to ``log_scale``."""
    return log_scale - 5 * torch.log(x) - torch.log(torch.expm1(C2 / (x * T)))


@exercise("3.2.3", zh="3.2.3", edition_1_0="3.4.3", kind="experiment",
          question="Could Planck's law and a measured spectrum give an object's temperature?")
def planck_temperature(seed=0, temperature=5800.0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.linspace(0.3, 3.0, 60, dtype=torch.float64)
    measured = log_planck(x, temperature, 2.0) + 0.01 * torch.randn(60, generator=generator,
                                                                    dtype=torch.float64)
    # Unknowns: the temperature (as kilokelvin, so both are of order 1) and the scale.
    kilo_T = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    log_scale = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([kilo_T, log_scale], max_iter=200,
                                  line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = ((log_planck(x, 1000 * kilo_T, log_scale) - measured) ** 2).mean()
        loss.backward()
        return loss

    optimizer.step(closure)
    T = 1000 * float(kilo_T.detach())
    return Answer(
        f"Yes: fit the temperature (and the unknown overall scale) by minimising the squared "
        f"error between log B(x, T) and the measured log spectrum; autograd gives the "
        f"gradient through Planck's formula. Starting from 3000 K on a noisy spectrum of "
        f"60 wavelengths (0.3-3 µm) of a {temperature:g} K body, the fit finds "
        f"T = {T:.0f} K; Wien's law (peak at 2898 µm K / T) would need the peak itself.",
        {"T": T, "true_T": temperature, "relative_error": abs(T - temperature) / temperature})


@exercise("3.2.4", zh="3.2.4", edition_1_0="3.4.4", kind="derivation",
          question="What problems do second derivatives of the loss bring, and how can they be "
                   "solved?")
def second_derivatives(seed=0):
    features, labels = section_data(seed, 100)
    X, y = features.double(), labels.double()

    def loss_of(w):
        return scratch.squared_loss(X @ w.reshape(-1, 1) + TRUE_B, y).mean()

    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(loss_of(w), w)
    try:  # without create_graph the gradient is a plain tensor: nothing to differentiate
        torch.autograd.grad(g.sum(), w)
        error = "no error"
    except RuntimeError as e:
        error = str(e).splitlines()[0]
    H = torch.autograd.functional.hessian(loss_of, w.detach())
    exact = X.T @ X / len(X)
    return Answer(
        "The backward pass frees the graph and returns gradients that are no longer "
        f"connected to w, so differentiating them again fails ({error!r}). Fix: "
        "create_graph=True (or torch.autograd.functional.hessian), which records the "
        "backward pass too, at the price of more memory and time, and an n x n result for n "
        "parameters. For the squared loss the Hessian in w is X^T X / n, the same at every "
        f"w; autograd's matches it to {float((H - exact).abs().max()):.1e}.",
        {"error": error, "hessian": H, "XtX_over_n": exact,
         "max_gap": float((H - exact).abs().max())})


@exercise("3.2.5", zh="3.2.5", edition_1_0="3.4.5", kind="fact",
          question="Why does squared_loss reshape y?")
def reshape_in_loss(seed=0):
    features, labels = section_data(seed, 8)
    y_hat = features @ TRUE_W.reshape(-1, 1) + TRUE_B + 0.1  # (8, 1), off by 0.1
    y = labels.flatten()  # (8,), as labels often come
    with_reshape = scratch.squared_loss(y_hat, y)
    without = (y_hat - y) ** 2 / 2
    return Answer(
        f"y_hat has shape {tuple(y_hat.shape)} while y may come as {tuple(y.shape)}; "
        f"without the reshape, y_hat - y broadcasts to {tuple(without.shape)}, every "
        f"prediction against every label, and the mean loss is {float(without.mean()):.3f} "
        f"instead of {float(with_reshape.mean()):.4f}: no error, just a wrong number and "
        "wrong gradients.",
        {"shape_with": list(with_reshape.shape), "shape_without": list(without.shape),
         "loss_with": float(with_reshape.mean()), "loss_without": float(without.mean())})


LEARNING_RATES = [0.001, 0.003, 0.01, 0.03, 0.1]
DIVERGING_LR = 3.0


@exercise("3.2.6", zh="3.2.6", edition_1_0="3.4.6", kind="experiment",
          question="Try other learning rates: how fast does the loss fall?")
def learning_rates(seed=0, lrs=tuple(LEARNING_RATES)):
    features, labels = section_data(seed)
    losses = {lr: fit_linear(features, labels, lr=lr, num_epochs=1, seed=seed)[1].train_loss[-1]
              for lr in lrs}
    # Full-batch gradient descent on this quadratic is stable for lr < 2 / lambda_max.
    X = torch.cat([features, torch.ones(len(features), 1)], dim=1)
    limit = 2 / float(torch.linalg.eigvalsh(X.T @ X / len(X)).max())
    try:
        fit_linear(features, labels, lr=DIVERGING_LR, num_epochs=1, seed=seed)
        diverged = False
    except DivergenceError:
        diverged = True
    table = ", ".join(f"lr {lr:g}: {loss:.2e}" for lr, loss in losses.items())
    return Answer(
        "Mean loss over the first epoch (batch 10, 100 steps): "
        f"{table}. Too small a rate crawls (100 steps of 0.001 barely move w from 0); "
        "larger rates reach the noise floor sooner; past a limit set by the curvature "
        f"(2 / the largest eigenvalue of X^T X / n, here {limit:.2f}) steps overshoot and "
        f"grow: lr {DIVERGING_LR:g} {'diverges' if diverged else 'does not diverge'} "
        "within one epoch.",
        {"loss_after_1_epoch": {str(k): v for k, v in losses.items()},
         "stability_limit": limit, "diverges_at": DIVERGING_LR if diverged else None})


def data_iter(batch_size, features, labels):
    """Minibatches as the section builds them: shuffle the indices, cut them into slices."""
    indices = torch.randperm(len(features))
    for i in range(0, len(features), batch_size):
        batch = indices[i:i + batch_size]
        yield features[batch], labels[batch]


@exercise("3.2.7", zh="3.2.7", edition_1_0="3.4.7", kind="fact",
          question="What does data_iter do when the batch size does not divide the number of "
                   "examples?")
def last_batch(seed=0, num_examples=1000, batch_size=64):
    features, labels = section_data(seed, num_examples)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        book = [len(X) for X, _ in data_iter(batch_size, features, labels)]
        ours = [len(X) for X, _ in load_array((features, labels), batch_size)]
    return Answer(
        f"It yields a last, shorter batch: {num_examples} examples in batches of {batch_size} "
        f"give {len(book)} batches, the last of {book[-1]} (= {num_examples} mod "
        f"{batch_size}); nothing is dropped, and every example is seen once per epoch. "
        f"d2lnotes' load_array does the same ({len(ours)} batches, the last of {ours[-1]}). "
        "The loss is a mean, so the short batch's step is not smaller, only noisier.",
        {"book_sizes": book, "load_array_sizes": ours,
         "expected_batches": math.ceil(num_examples / batch_size)})
