"""Chapter 3's experiments: each version trained from the same start on the same batches.

``compare_linear_regression`` and ``compare_softmax_regression`` build the scratch model,
copy its parameters into the concise one (mind the transpose), and hand both to
``d2lnotes.utils.train.compare``, which reports how far apart the parameters end up.
"""

import torch

from ..utils.data import load_array, load_fashion_mnist, synthetic_data
from ..utils.train import Comparison, compare, copy_into_linear
from . import concise, scratch

__all__ = ["compare_linear_regression", "compare_softmax_regression"]


def _keep(versions, impl):
    return {k: v for k, v in versions.items() if impl in ("both", k)}


def compare_linear_regression(true_w=(2.0, -3.4), true_b=4.2, num_examples=1000, batch_size=10,
                              lr=0.03, num_epochs=3, seed=0, impl="both", quiet=True):
    """Fit ``y = Xw + b + noise`` (§3.2-3.5) with both versions; return a :class:`Comparison`.

    ``extra[impl]`` holds ``w_error`` (``true_w - w``, a list) and ``b_error`` (``true_b - b``).
    """
    torch.manual_seed(seed)
    true_w = torch.tensor(true_w)
    features, labels = synthetic_data(true_w, true_b, num_examples)
    data_iter = load_array((features, labels), batch_size)
    net_s = scratch.LinearRegression(len(true_w))
    net_c = concise.linear_regression(len(true_w))
    copy_into_linear(net_c[0], net_s.w.detach(), net_s.b.detach())
    versions = _keep({
        "scratch": (net_s, scratch.squared_loss, scratch.SGD(net_s.parameters(), lr)),
        # lr / 2: nn.MSELoss has no 1/2 (see concise.linear_regression_loss).
        "concise": (net_c, concise.linear_regression_loss(),
                    torch.optim.SGD(net_c.parameters(), lr=lr / 2)),
    }, impl)
    layout = {"scratch": net_s.parameters(), "concise": [net_c[0].weight.T, net_c[0].bias]}
    cmp = compare(versions, data_iter, None, num_epochs, seed=seed, layout=layout, quiet=quiet)
    for k in versions:
        w, b = layout[k]
        cmp.extra[k] = {"w_error": (true_w - w.detach().reshape(true_w.shape)).tolist(),
                        "b_error": true_b - float(b.detach())}
    return cmp


def compare_softmax_regression(batch_size=256, lr=0.1, num_epochs=10, seed=0, impl="both",
                               data=None, device=None, quiet=True, callback=None) -> Comparison:
    """Train softmax regression on Fashion-MNIST (§3.6-3.7) both ways; return a Comparison.

    ``data`` is ``(train_iter, test_iter)``; by default it is loaded with ``batch_size``.
    """
    train_iter, test_iter = data or load_fashion_mnist(batch_size, device=device)
    torch.manual_seed(seed)
    net_s = scratch.SoftmaxRegression(784, 10, device=device)
    net_c = concise.softmax_regression(784, 10).to(device)
    copy_into_linear(net_c[1], net_s.W.detach(), net_s.b.detach())
    versions = _keep({
        "scratch": (net_s, scratch.cross_entropy, scratch.SGD(net_s.parameters(), lr)),
        "concise": (net_c, concise.softmax_regression_loss(),
                    torch.optim.SGD(net_c.parameters(), lr=lr)),
    }, impl)
    layout = {"scratch": net_s.parameters(), "concise": [net_c[1].weight.T, net_c[1].bias]}
    return compare(versions, train_iter, test_iter, num_epochs, seed=seed, layout=layout,
                   quiet=quiet, callback=callback)
