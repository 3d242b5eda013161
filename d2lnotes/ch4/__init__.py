"""Chapter 4, multilayer perceptrons: scratch and concise versions, trained side by side.

``compare_mlp`` starts both MLPs from the same parameters and feeds them the same
batches, like ``ch3.compare_softmax_regression``; ``compare_hand_backprop`` does the same
for the autograd MLP and the one whose gradients are derived by hand (§4.7);
``compare_dropout`` cannot compare parameters (the random masks differ) and is judged by
accuracy. ``activation_variance`` and ``matrix_product`` are the §4.8 experiments.
"""

import torch

from ..utils.data import load_fashion_mnist
from ..utils.train import Comparison, copy_into_linear, max_param_diff, train_side_by_side
from . import concise, scratch

__all__ = ["compare_mlp", "compare_hand_backprop", "compare_dropout", "matrix_product",
           "activation_variance", "concise", "scratch"]


def _tracking(params, callback):
    """A callback that also snapshots each version's parameters after every epoch.

    ``params`` maps a version to its parameter list in a common layout; the snapshots
    give the per-epoch ``max_param_diff``, which shows how the rounding gap grows.
    """
    snapshots = {name: [] for name in params}

    def each_epoch(name, history):
        snapshots[name].append([p.detach().clone() for p in params[name]])
        if callback is not None:
            callback(name, history)

    return snapshots, each_epoch


def _gaps(snapshots):
    """Per-epoch ``max_param_diff`` between the first two versions' snapshots."""
    a, b = list(snapshots.values())[:2]
    return [max_param_diff(x, y) for x, y in zip(a, b)]


def compare_mlp(batch_size=256, lr=0.1, num_epochs=10, seed=0, impl="both", data=None,
                device=None, quiet=True, callback=None):
    """Train the one-hidden-layer MLP on Fashion-MNIST (§4.2-4.3) both ways; return a Comparison.

    ``extra["param_diff_per_epoch"]`` is the parameter gap after each epoch. It starts at
    float32 rounding (~2e-7 after one epoch), then jumps (to ~6e-4 in epoch 2) when
    rounding puts a pre-activation on the other side of ReLU's kink in one version
    only. Run in float64 (``torch.set_default_dtype``) the two stay ~1e-16 apart.

    ``data`` is ``(train_iter, test_iter)``; by default it is loaded with ``batch_size``.
    """
    train_iter, test_iter = data or load_fashion_mnist(batch_size, device=device)
    torch.manual_seed(seed)
    net_s = scratch.MLP(784, 10, 256, device=device)
    net_c = concise.mlp(784, 10, 256).to(device)
    copy_into_linear(net_c[1], net_s.W1.detach(), net_s.b1.detach())
    copy_into_linear(net_c[3], net_s.W2.detach(), net_s.b2.detach())
    versions = {
        "scratch": (net_s, scratch.softmax_cross_entropy, scratch.SGD(net_s.parameters(), lr)),
        "concise": (net_c, concise.mlp_loss(), concise.sgd(net_c.parameters(), lr)),
    }
    versions = {k: v for k, v in versions.items() if impl in ("both", k)}
    snapshots, each_epoch = _tracking(
        {"scratch": net_s.parameters(),
         "concise": [net_c[1].weight.T, net_c[1].bias, net_c[3].weight.T, net_c[3].bias]},
        callback)
    histories = train_side_by_side(versions, train_iter, test_iter, num_epochs, seed=seed + 1,
                                   quiet=quiet, callback=each_epoch)
    diff, extra = None, {}
    if impl == "both":
        extra["param_diff_per_epoch"] = _gaps(snapshots)
        diff = extra["param_diff_per_epoch"][-1]
    return Comparison(histories, {k: v[0] for k, v in versions.items()}, diff, extra)


def compare_hand_backprop(batch_size=256, lr=0.1, num_epochs=10, seed=0, data=None, device=None,
                          quiet=True, callback=None):
    """Train the MLP with autograd and with hand-derived gradients (§4.7); return a Comparison.

    Both start from the same parameters and see the same batches; ``max_param_diff`` is
    the gap at the end, ``extra["param_diff_per_epoch"]`` the gap after each epoch.
    """
    train_iter, test_iter = data or load_fashion_mnist(batch_size, device=device)
    torch.manual_seed(seed)
    net_a = scratch.MLP(784, 10, 256, device=device)
    net_h = scratch.HandMLP(784, 10, 256, device=device)
    with torch.no_grad():
        for p_h, p_a in zip(net_h.parameters(), net_a.parameters()):
            p_h.copy_(p_a)
    versions = {
        "autograd": (net_a, scratch.softmax_cross_entropy, scratch.SGD(net_a.parameters(), lr)),
        "by hand": (net_h, scratch.hand_softmax_cross_entropy,
                    scratch.SGD(net_h.parameters(), lr)),
    }
    snapshots, each_epoch = _tracking(
        {"autograd": net_a.parameters(), "by hand": net_h.parameters()}, callback)
    histories = train_side_by_side(versions, train_iter, test_iter, num_epochs, seed=seed + 1,
                                   quiet=quiet, callback=each_epoch)
    gaps = _gaps(snapshots)
    return Comparison(histories, {k: v[0] for k, v in versions.items()}, gaps[-1],
                      {"param_diff_per_epoch": gaps})


def compare_dropout(batch_size=256, lr=0.5, num_epochs=10, dropout1=0.2, dropout2=0.5, seed=0,
                    impl="both", data=None, device=None, quiet=True, callback=None):
    """Train the 784-256-256-10 dropout MLP (§4.6) both ways; return a Comparison.

    Same start and same batches, but the scratch masks come from ``torch.rand`` and
    ``nn.Dropout``'s from its own kernel, so the runs part after the first batch:
    ``max_param_diff`` is ``None`` and the two are compared by accuracy.
    """
    train_iter, test_iter = data or load_fashion_mnist(batch_size, device=device)
    torch.manual_seed(seed)
    net_s = scratch.DropoutMLP(784, 10, 256, 256, dropout1, dropout2, device=device)
    net_c = concise.dropout_mlp(784, 10, 256, 256, dropout1, dropout2).to(device)
    for linear, W, b in zip((net_c[1], net_c[4], net_c[7]), net_s.Ws, net_s.bs):
        copy_into_linear(linear, W.detach(), b.detach())
    versions = {
        "scratch": (net_s, scratch.softmax_cross_entropy, scratch.SGD(net_s.parameters(), lr)),
        "concise": (net_c, concise.mlp_loss(), concise.sgd(net_c.parameters(), lr)),
    }
    versions = {k: v for k, v in versions.items() if impl in ("both", k)}
    histories = train_side_by_side(versions, train_iter, test_iter, num_epochs, seed=seed + 1,
                                   quiet=quiet, callback=callback)
    return Comparison(histories, {k: v[0] for k, v in versions.items()})


def matrix_product(num_matrices=100, size=4, seed=0):
    """Product of ``num_matrices`` random ``N(0, 1)`` square matrices (§4.8.1.2); it explodes."""
    gen = torch.Generator().manual_seed(seed)
    M = torch.normal(0, 1, size=(size, size), generator=gen)
    for _ in range(num_matrices - 1):
        M = M @ torch.normal(0, 1, size=(size, size), generator=gen)
    return M


def activation_variance(init, num_layers=10, width=256, num_examples=1000, seed=0):
    """Variance of the outputs of each of ``num_layers`` linear layers ``h <- h W^T`` (§4.8.2).

    ``init(n_in, n_out)`` returns a weight of shape ``(n_out, n_in)``. The layers are
    linear, as in the book's derivation: each multiplies the variance by ``n_in Var W``,
    which Xavier makes about 1. Returns ``[Var x, Var h_1, ..., Var h_L]``.
    """
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        h = torch.randn(num_examples, width)
        variances = [float(h.var())]
        for _ in range(num_layers):
            h = h @ init(width, width).T
            variances.append(float(h.var()))
    finally:
        torch.random.set_rng_state(gen_state)
    return variances
