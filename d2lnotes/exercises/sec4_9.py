"""§4.9 Environment and distribution shift: a covariate-shift detector, a corrector, and how
far the empirical risk can be from the risk even without shift.

One toy problem throughout: inputs x ~ N(0, 1) in training (source) and x ~ N(1.5, 0.6^2)
at test time (target), labels y = sin(2x) + noise in both, and a linear model, which is
wrong for y and so is fitted differently depending on where the inputs lie.
"""

import torch
from torch import nn

from ..ch3.scratch import squared_loss
from .core import Answer, exercise

TARGET_MEAN, TARGET_STD, NOISE = 1.5, 0.6, 0.1


def shifted_data(n, seed=0, shift=True):
    """``(x_source, y_source, x_target, y_target)``, ``n`` of each, columns of shape (n, 1)."""
    gen = torch.Generator().manual_seed(seed)
    x_s = torch.randn(n, 1, generator=gen)
    x_t = torch.randn(n, 1, generator=gen)
    x_t = TARGET_MEAN + TARGET_STD * x_t if shift else x_t

    def label(x):
        return torch.sin(2 * x) + NOISE * torch.randn(x.shape, generator=gen)

    return x_s, label(x_s), x_t, label(x_t)


def _features(x):
    # The log density ratio of two Gaussians is quadratic in x: a linear model on (x, x^2).
    return torch.cat([x, x ** 2], dim=1)


def train_detector(x_source, x_target, steps=300, seed=0):
    """Logistic regression telling target (1) from source (0) inputs: the §4.9.3 classifier.

    Returns the logit function ``h``; with balanced classes ``exp(h(x))`` estimates
    ``q(x) / p(x)``, the target over the source density.
    """
    torch.manual_seed(seed)
    net = nn.Linear(2, 1)
    X = _features(torch.cat([x_source, x_target]))
    z = torch.cat([torch.zeros(len(x_source), 1), torch.ones(len(x_target), 1)])
    optimizer = torch.optim.Adam(net.parameters(), lr=0.1)
    for _ in range(steps):
        optimizer.zero_grad()
        nn.functional.binary_cross_entropy_with_logits(net(X), z).backward()
        optimizer.step()
    return lambda x: net(_features(x)).detach()


@exercise("4.9.2", zh="4.9.2", edition_1_0="4.7.2", kind="experiment",
          question="Build a covariate-shift detector. (Hint: a classifier.)")
def shift_detector(n=2000, seed=0):
    accuracy = {}
    for shift in (True, False):
        x_s, _, x_t, _ = shifted_data(2 * n, seed, shift)
        h = train_detector(x_s[:n], x_t[:n], seed=seed)
        # held-out halves: how often does the classifier tell the two apart?
        correct = torch.cat([h(x_s[n:]) < 0, h(x_t[n:]) > 0]).float().mean()
        accuracy["shifted" if shift else "not shifted"] = float(correct)
    return Answer(
        "Label training inputs 0 and test inputs 1 and train a classifier to tell them "
        "apart: if it does better than chance on held-out inputs, the input distribution "
        f"has shifted. On the toy problem it reaches {accuracy['shifted']:.3f} accuracy when "
        f"the test inputs come from N({TARGET_MEAN}, {TARGET_STD}^2) instead of N(0, 1), "
        f"and {accuracy['not shifted']:.3f} (chance) when they do not. (A fair test compares "
        "against chance with a held-out set, as here, or a permutation test.)",
        {"detector_accuracy": accuracy})


@exercise("4.9.3", zh="4.9.3", edition_1_0="4.7.3", kind="experiment",
          question="Build a covariate-shift corrector.")
def shift_corrector(n=5000, seed=0):
    x_s, y_s, x_t, y_t = shifted_data(n, seed)
    h = train_detector(x_s, x_t, seed=seed)
    beta = torch.exp(h(x_s))  # q(x) / p(x) at the training inputs (equal class sizes)
    A = torch.cat([x_s, torch.ones_like(x_s)], dim=1)

    def fit(weights):  # weighted least squares: argmin sum_i beta_i (a x_i + b - y_i)^2
        sw = weights.sqrt()
        return torch.linalg.lstsq(A * sw, y_s * sw).solution

    def target_loss(w):
        return float(squared_loss(torch.cat([x_t, torch.ones_like(x_t)], 1) @ w, y_t).mean())

    plain, corrected = fit(torch.ones_like(beta)), fit(beta)
    w_best = torch.linalg.lstsq(torch.cat([x_t, torch.ones_like(x_t)], 1), y_t).solution
    values = {"target_loss_uncorrected": target_loss(plain),
              "target_loss_corrected": target_loss(corrected),
              "target_loss_fit_on_target": target_loss(w_best),
              "beta_mean": float(beta.mean())}
    return Answer(
        "Weight each training example by beta(x) = q(x) / p(x), estimated from the "
        "detector's logit h as exp(h(x)), and minimise the weighted loss sum_i beta_i "
        "l(f(x_i), y_i), which estimates the risk under the test distribution. On the toy "
        f"problem the linear fit's test loss drops from {values['target_loss_uncorrected']:.3f}"
        f" to {values['target_loss_corrected']:.3f} with the weights (a fit on labelled test "
        f"data would get {values['target_loss_fit_on_target']:.3f}); the weights average "
        f"{values['beta_mean']:.2f}, close to 1 as a density ratio should.", values)


@exercise("4.9.4", zh="4.9.4", edition_1_0="4.7.4", kind="derivation",
          question="Besides distribution shift, what else affects how well the empirical risk "
                   "approximates the risk?")
def empirical_risk_noise(sizes=(100, 10_000), repeats=200, seed=0):
    gen = torch.Generator().manual_seed(seed)
    spread = {}
    for n in sizes:  # a fixed model f(x) = 0.5 x; its loss on fresh samples of size n
        risks = []
        for _ in range(repeats):
            x = torch.randn(n, generator=gen)
            y = torch.sin(2 * x) + NOISE * torch.randn(n, generator=gen)
            risks.append(float(squared_loss(0.5 * x, y).mean()))
        spread[n] = float(torch.tensor(risks).std())
    ratio = spread[sizes[0]] / spread[sizes[-1]]
    return Answer(
        "The sample size: the empirical risk is an average of n losses, so its standard "
        "deviation around the risk shrinks like 1/sqrt(n). For one fixed model, its "
        "empirical risk on fresh samples varies with standard deviation "
        + ", ".join(f"{spread[n]:.4f} at n = {n}" for n in sizes)
        + f": {ratio:.1f} times less for 100 times more data (sqrt(100) = 10). Also: "
        "examples that are not independent (duplicates, time series), heavy-tailed losses, "
        "label noise, and, when the model was chosen using the same data, selection bias "
        "that makes the training risk optimistic.",
        {"std_of_empirical_risk": spread, "ratio": ratio})
