"""The scratch models take the pieces the book's exercises vary as arguments, with the
book's choice as the default: ``SoftmaxRegression(softmax=...)`` (§3.6), the loss of the
comparisons, ``MLP(activation=...)`` and ``DropoutMLP(activation=...)`` (§4.2, §4.6)."""

import torch

from d2lnotes.ch3 import experiments, scratch
from d2lnotes.ch4 import scratch as scratch4
from d2lnotes.utils.data import load_array


def test_softmax_regression_takes_its_softmax():
    torch.manual_seed(0)
    X = torch.full((2, 784), 1.0)
    net = scratch.SoftmaxRegression(sigma=1.0)
    naive = scratch.SoftmaxRegression(sigma=1.0, softmax=scratch.softmax_naive)
    naive.W, naive.b = net.W, net.b
    with torch.no_grad():
        net.W[:, 0] = 1.0  # a logit of 784: the naive softmax overflows to nan
    assert torch.isfinite(net(X)).all()
    assert torch.isnan(naive(X)).any()
    assert net.softmax is scratch.softmax  # the book's default


def _tiny_fashion(n=64):
    torch.manual_seed(3)
    X, y = torch.rand(n, 1, 28, 28), torch.randint(0, 10, (n,))
    return load_array((X, y), 16), load_array((X, y), n, shuffle=False)


def test_compare_softmax_regression_passes_its_pieces_to_the_scratch_version():
    seen = []

    def loss(y_hat, y):
        seen.append(y_hat.shape)
        return scratch.cross_entropy(y_hat, y)

    cmp = experiments.compare_softmax_regression(lr=0.1, num_epochs=1, data=_tiny_fashion(),
                                                 loss=loss)
    assert seen and cmp.max_param_diff < 1e-5  # the same loss, so the twins agree
    naive = experiments.compare_softmax_regression(lr=0.1, num_epochs=1, data=_tiny_fashion(),
                                                   softmax=scratch.softmax_naive)
    assert naive.nets["scratch"].softmax is scratch.softmax_naive


def test_linear_regression_comparison_takes_its_loss():
    def doubled(y_hat, y):
        return 2 * scratch.squared_loss(y_hat, y)

    book = experiments.compare_linear_regression(num_epochs=1)
    other = experiments.compare_linear_regression(num_epochs=1, loss=doubled)
    assert book.max_param_diff < 1e-5 < other.max_param_diff  # twice the step parts them


def test_mlps_take_their_activation():
    torch.manual_seed(0)
    X = torch.randn(5, 784)
    relu_net = scratch4.MLP()
    sig_net = scratch4.MLP(activation=scratch4.sigmoid)
    sig_net.W1, sig_net.b1, sig_net.W2, sig_net.b2 = relu_net.parameters()
    expected = scratch4.sigmoid(X @ relu_net.W1 + relu_net.b1) @ relu_net.W2 + relu_net.b2
    torch.testing.assert_close(sig_net(X), expected)
    assert not torch.allclose(relu_net(X), expected)
    drop = scratch4.DropoutMLP(activation=scratch4.tanh).eval()
    W, b = drop.Ws, drop.bs
    H = scratch4.tanh(scratch4.tanh(X @ W[0] + b[0]) @ W[1] + b[1])
    torch.testing.assert_close(drop(X), H @ W[2] + b[2])
