"""§2.4 Calculus: a tangent line, two gradients and the multivariate chain rule."""

import torch

from ..ch2 import concise, scratch
from .core import Answer, exercise


def cubic_minus_inverse(x):
    """The exercise's ``f(x) = x^3 - 1/x``."""
    return x ** 3 - 1 / x


@exercise("2.4.1", zh="2.4.1", edition_1_0="2.4.6", kind="derivation",
          question="Plot f(x) = x^3 - 1/x and its tangent line at x = 1.")
def tangent_line():
    from ..utils.plot import plot

    # f'(x) = 3x^2 + 1/x^2, so f'(1) = 4; f(1) = 0; the tangent is y = 4(x - 1).
    slope_by_hand, value = 3 * 1 ** 2 + 1 / 1 ** 2, cubic_minus_inverse(1.0)
    one = torch.tensor(1.0, dtype=torch.float64)
    slope_autograd = float(concise.grad(cubic_minus_inverse, one))
    slopes = {h: scratch.numerical_lim(cubic_minus_inverse, 1.0, h) for h in (0.1, 0.01, 0.001)}
    intercept = value - slope_by_hand * 1
    line = f"y = {slope_by_hand:g}x {'-' if intercept < 0 else '+'} {abs(intercept):g}"
    x = torch.linspace(0.25, 2, 100)
    fig = plot(x, [cubic_minus_inverse(x), slope_by_hand * x + intercept], "x", "f(x)",
               legend=["f(x) = x^3 - 1/x", f"tangent {line}"],
               title="§2.4 exercise 1: the tangent at x = 1")
    return Answer(
        f"f'(x) = 3x^2 + 1/x^2, so f'(1) = {slope_by_hand:g} and f(1) = {value:g}: the tangent "
        f"is {line}. Autograd gives the slope {slope_autograd:g}; "
        f"the book's difference quotient approaches it as h shrinks "
        f"({', '.join(f'h={h:g}: {s:.4f}' for h, s in slopes.items())}).",
        {"slope": slope_by_hand, "intercept": intercept, "slope_autograd": slope_autograd,
         "difference_quotients": {str(h): s for h, s in slopes.items()}}, figure=fig)


def quadratic_plus_exp(x):
    """The exercise's ``f(x) = 3 x_1^2 + 5 e^{x_2}``."""
    return 3 * x[0] ** 2 + 5 * torch.exp(x[1])


@exercise("2.4.2", zh="2.4.2", edition_1_0="2.4.7", kind="derivation",
          question="Find the gradient of f(x) = 3 x1^2 + 5 exp(x2).")
def gradient_quadratic_exp(seed=0):
    x = torch.randn(2, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    by_hand = torch.stack([6 * x[0], 5 * torch.exp(x[1])])
    autograd = concise.grad(quadratic_plus_exp, x)
    gap = float((by_hand - autograd).abs().max())
    return Answer(
        f"Each partial derivative treats the other variable as a constant: "
        f"grad f = [6 x1, 5 exp(x2)]. At a random x = {[round(v, 4) for v in x.tolist()]} "
        f"that is {[round(v, 4) for v in by_hand.tolist()]}, and autograd differs by "
        f"{gap:.1e}.",
        {"x": x, "by_hand": by_hand, "autograd": autograd, "max_gap": gap})


@exercise("2.4.3", zh="2.4.3", edition_1_0="2.4.8", kind="derivation",
          question="What is the gradient of f(x) = ||x||_2 (and what happens at x = 0)?")
def gradient_of_norm(seed=0):
    x = torch.randn(5, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    by_hand = x / torch.linalg.norm(x)
    autograd = concise.grad(torch.linalg.norm, x)
    numerical = scratch.numerical_grad(torch.linalg.norm, x)
    at_zero = concise.grad(torch.linalg.norm, torch.zeros(3, dtype=torch.float64))
    gap = float((by_hand - autograd).abs().max())
    return Answer(
        f"||x|| = (sum x_i^2)^(1/2), so d||x||/dx_i = x_i / ||x||: grad = x / ||x||, the unit "
        f"vector along x (its length is {float(torch.linalg.norm(by_hand)):.6f}). Autograd "
        f"differs from it by {gap:.1e} at a random x. At x = 0 the norm has a kink (a cone) "
        f"and no gradient; torch returns {at_zero.tolist()}, a valid subgradient.",
        {"by_hand": by_hand, "autograd": autograd, "numerical": numerical, "max_gap": gap,
         "autograd_at_zero": at_zero})


def chain_example(a, b):
    """``u = f(x, y, z) = x y + z^2`` with ``x = a + b``, ``y = a b``, ``z = sin a``."""
    x, y, z = a + b, a * b, torch.sin(a)
    return x * y + z ** 2


@exercise("2.4.4", zh="2.4.4", edition_1_0="2.4.9", kind="derivation",
          question="Write the chain rule for u = f(x, y, z) with x, y, z functions of (a, b).")
def multivariate_chain_rule():
    a, b = torch.tensor(0.7, dtype=torch.float64), torch.tensor(-1.3, dtype=torch.float64)
    x, y, z = a + b, a * b, torch.sin(a)
    # du/da = f_x x_a + f_y y_a + f_z z_a, with f_x = y, f_y = x, f_z = 2z
    du_da = y * 1 + x * b + 2 * z * torch.cos(a)
    du_db = y * 1 + x * a + 2 * z * 0
    a_, b_ = a.clone().requires_grad_(), b.clone().requires_grad_()
    chain_example(a_, b_).backward()
    gap = max(abs(float(du_da - a_.grad)), abs(float(du_db - b_.grad)))
    return Answer(
        "du/da = ∂f/∂x ∂x/∂a + ∂f/∂y ∂y/∂a + ∂f/∂z ∂z/∂a, and the same with b: one term "
        "per path from a (or b) to u. For u = xy + z^2, x = a + b, y = ab, z = sin a at "
        f"(a, b) = (0.7, -1.3): du/da = {float(du_da):.6f}, du/db = {float(du_db):.6f} by the "
        f"rule, and autograd agrees to {gap:.1e}.",
        {"du_da": float(du_da), "du_db": float(du_db), "autograd": [float(a_.grad),
                                                                     float(b_.grad)],
         "max_gap": gap})
