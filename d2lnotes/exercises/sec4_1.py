"""§4.1 Multilayer perceptrons: pReLU's derivative, piecewise-linear ReLU nets, tanh as a
rescaled sigmoid, and a nonlinearity that looks at the whole minibatch."""

import torch
import torch.nn.functional as F
from torch import nn

from ..ch4 import scratch, variants
from .core import Answer, exercise


@exercise("4.1.1", zh="4.1.1", edition_1_0="5.1.2", kind="derivation",
          question="What is the derivative of the pReLU activation?")
def prelu_derivative(alpha=0.25):
    x = torch.linspace(-5, 5, 1001, dtype=torch.float64)
    x = x[x != 0]  # the kink, where autograd picks one side
    xg = x.clone().requires_grad_(True)
    a = torch.tensor(alpha, dtype=torch.float64, requires_grad=True)
    variants.prelu(xg, a).sum().backward()
    dx, da = variants.prelu_grad(x, alpha)
    values = {"alpha": alpha,
              "max_value_diff_vs_torch": float((variants.prelu(x, alpha) - F.prelu(
                  x, torch.tensor([alpha], dtype=torch.float64))).abs().max()),
              "max_dx_diff_vs_autograd": float((dx - xg.grad).abs().max()),
              "dalpha_diff_vs_autograd": float((da.sum() - a.grad).abs())}
    return Answer(
        "pReLU(x) = max(0, x) + alpha min(0, x), so d/dx = 1 for x > 0 and alpha for x < 0 "
        "(undefined at 0, where torch takes alpha); as alpha is learnt too, d/dalpha = "
        f"min(0, x). With alpha = {alpha} on 1000 points the formulas match autograd to "
        f"{values['max_dx_diff_vs_autograd']:.1e} (x) and {values['dalpha_diff_vs_autograd']:.1e} "
        "(alpha, summed over the points).", values)


@exercise("4.1.2", zh="4.1.2", edition_1_0="5.1.4", kind="derivation",
          question="Why does an MLP built only from ReLU (or pReLU) compute a continuous, "
                   "piecewise-linear function?")
def piecewise_linear(seed=0, num_points=20001):
    with torch.random.fork_rng(devices=[]):  # the caller's generator stays as it was
        torch.manual_seed(seed)
        net = variants.deep_mlp((8, 8), init="N(0, 1)", num_inputs=1, num_outputs=1).double()
        with torch.no_grad():
            for module in net.modules():
                if isinstance(module, nn.Linear):
                    module.bias.normal_()
    x = torch.linspace(-4, 4, num_points, dtype=torch.float64).reshape(-1, 1)
    with torch.no_grad():
        f = net(x).reshape(-1)
    h = float(x[1] - x[0])
    slopes = torch.diff(f) / h
    bends = (torch.diff(slopes).abs() > 1e-6).sum()
    # Lipschitz bound: |ReLU(a) - ReLU(b)| <= |a - b|, so a chain of layers is at most the
    # product of the weights' spectral norms.
    lipschitz = 1.0
    for module in net.modules():
        if isinstance(module, nn.Linear):
            lipschitz *= float(torch.linalg.matrix_norm(module.weight.detach(), ord=2))
    values = {"num_points": num_points, "points_with_curvature": int(bends),
              "num_slopes": int(torch.unique(slopes.round(decimals=6)).numel()),
              "max_abs_slope": float(slopes.abs().max()), "lipschitz_bound": lipschitz}
    return Answer(
        "Each layer is affine, and ReLU(z) = max(0, z) is linear on either side of 0; a "
        "composition of continuous piecewise-linear maps is again continuous and piecewise "
        "linear (pReLU only changes the slope on the left). For a random 1-8-8-1 ReLU net on "
        f"{num_points} points in [-4, 4], the second difference is nonzero at only "
        f"{values['points_with_curvature']} points (the kinks), and the slope never exceeds "
        f"{values['max_abs_slope']:.1f}, within the Lipschitz bound "
        f"{values['lipschitz_bound']:.1f} (product of the weights' spectral norms): no jumps.",
        values)


@exercise("4.1.3", zh="4.1.3", edition_1_0="5.1.5", kind="derivation",
          question="Show that tanh(x) + 1 = 2 sigmoid(2x).")
def tanh_is_a_scaled_sigmoid():
    x = torch.linspace(-50, 50, 100001, dtype=torch.float64)
    gap = float((scratch.tanh(x) + 1 - 2 * scratch.sigmoid(2 * x)).abs().max())
    return Answer(
        "tanh(x) = (1 - e^{-2x}) / (1 + e^{-2x}), so tanh(x) + 1 = 2 / (1 + e^{-2x}) = "
        "2 sigmoid(2x). Hence a tanh layer equals a sigmoid layer with doubled weights and "
        "bias, once the next layer doubles its weights and shifts its bias. On 100001 points in "
        f"[-50, 50] the two sides differ by at most {gap:.1e}.",
        {"max_abs_diff": gap})


@exercise("4.1.4", zh="4.1.4", edition_1_0="5.1.6", kind="derivation",
          question="What goes wrong with a nonlinearity computed over a whole minibatch at once?")
def minibatch_nonlinearity(seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(1, 4, generator=gen)
    batch_a = torch.cat([x, torch.randn(7, 4, generator=gen)])
    batch_b = torch.cat([x, torch.randn(7, 4, generator=gen) + 3])
    norm = nn.BatchNorm1d(4, affine=False)  # standardises with the batch's mean and variance
    norm.train()
    out_a, out_b = norm(batch_a)[0], norm(batch_b)[0]
    try:
        norm(x)
        single = "accepted"
    except ValueError as e:
        single = str(e)
    values = {"same_example_diff": float((out_a - out_b).abs().max()),
              "batch_of_one": single}
    return Answer(
        "The output for one example then depends on which other examples share its batch: "
        "the same x, standardised with two different batches' statistics, comes out "
        f"{values['same_example_diff']:.2f} apart (largest coordinate). Predictions become "
        "random, batches must be shuffled with care, the batch size is one more "
        "hyperparameter, and a single example has no statistics at all (torch's "
        f"BatchNorm1d refuses it in training: '{single}'). Batch normalisation lives with "
        "this by keeping running averages for prediction.", values)
