"""Chapter 3's experiments: each version trained from the same start on the same batches.

``compare_linear_regression`` and ``compare_softmax_regression`` build the scratch model
and the concise one, name their parameters in one layout (mind the transpose), and hand
both to ``d2lnotes.utils.train.compare_twins``, which copies the scratch parameters in,
trains both and reports how far apart the parameters end up.
"""

import torch

from ..utils.data import load_array, synthetic_data
from ..utils.train import Comparison, Twin, compare_twins, fashion_mnist_or
from . import concise, scratch

__all__ = ["compare_linear_regression", "compare_softmax_regression"]


def compare_linear_regression(true_w=(2.0, -3.4), true_b=4.2, num_examples=1000, batch_size=10,
                              lr=0.03, num_epochs=3, seed=0, impl="both", quiet=True,
                              loss=scratch.squared_loss):
    """Fit ``y = Xw + b + noise`` (§3.2-3.5) with both versions; return a :class:`Comparison`.

    ``extra[impl]`` holds ``w_error`` (``true_w - w``, a list) and ``b_error`` (``true_b - b``).
    ``loss`` is the scratch version's, the book's ``squared_loss`` by default.
    """
    torch.manual_seed(seed)
    true_w = torch.tensor(true_w)
    features, labels = synthetic_data(true_w, true_b, num_examples)
    data_iter = load_array((features, labels), batch_size)
    net_s = scratch.LinearRegression(len(true_w))
    net_c = concise.linear_regression(len(true_w))
    twins = (Twin(net_s, loss, scratch.SGD(net_s.parameters(), lr)),
             # lr / 2: nn.MSELoss has no 1/2 (see concise.linear_regression_loss).
             Twin(net_c, concise.linear_regression_loss(),
                  torch.optim.SGD(net_c.parameters(), lr=lr / 2),
                  params=[net_c[0].weight.T, net_c[0].bias]))
    cmp = compare_twins(*twins, data_iter, None, num_epochs, seed=seed, impl=impl, quiet=quiet)
    for k, twin in zip(("scratch", "concise"), twins):
        if k not in cmp.histories:
            continue
        w, b = twin.params
        cmp.extra[k] = {"w_error": (true_w - w.detach().reshape(true_w.shape)).tolist(),
                        "b_error": true_b - float(b.detach())}
    return cmp


def compare_softmax_regression(batch_size=None, lr=0.1, num_epochs=10, seed=0, impl="both",
                               data=None, device=None, quiet=True, callback=None,
                               softmax=scratch.softmax, loss=scratch.cross_entropy) -> Comparison:
    """Train softmax regression on Fashion-MNIST (§3.6-3.7) both ways; return a Comparison.

    ``data`` is ``(train_iter, test_iter)``; by default it is loaded with ``batch_size``
    (book: 256); given both, their batch sizes must agree. ``softmax`` and ``loss`` are the
    scratch version's pieces, the book's by default; an exercise may swap them
    (``softmax=scratch.softmax_naive``) and watch the twins part.
    """
    train_iter, test_iter = fashion_mnist_or(data, batch_size, "compare_softmax_regression", device)
    torch.manual_seed(seed)
    net_s = scratch.SoftmaxRegression(784, 10, device=device, softmax=softmax)
    net_c = concise.softmax_regression(784, 10).to(device)
    return compare_twins(
        Twin(net_s, loss, scratch.SGD(net_s.parameters(), lr)),
        Twin(net_c, concise.softmax_regression_loss(), torch.optim.SGD(net_c.parameters(), lr=lr),
             params=[net_c[1].weight.T, net_c[1].bias]),
        train_iter, test_iter, num_epochs, seed=seed, impl=impl, quiet=quiet, callback=callback)
