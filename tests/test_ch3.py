"""Chapter 3: scratch pieces against their torch twins, and scratch == concise after training."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from d2lnotes import ch3
from d2lnotes.ch3 import concise, scratch
from d2lnotes.utils.train import accuracy

logits = arrays(np.float64, array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=8),
                elements=st.floats(-50, 50))


# --- the book's toy example (§3.6) --------------------------------------------------------

def test_book_toy_values():
    y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
    y = torch.tensor([0, 2])
    assert y_hat[[0, 1], y].tolist() == pytest.approx([0.1, 0.5])
    assert scratch.cross_entropy(y_hat, y).tolist() == pytest.approx([2.3026, 0.6931], abs=1e-4)
    assert accuracy(y_hat, y) == 0.5


# --- softmax: torch twin, properties, stability --------------------------------------------

@given(logits)
def test_softmax_matches_torch(X):
    X = torch.from_numpy(X)
    torch.testing.assert_close(scratch.softmax(X), torch.softmax(X, dim=1))


@given(logits)
def test_softmax_rows_sum_to_one_and_shift_invariant(X):
    X = torch.from_numpy(X)
    P = scratch.softmax(X)
    torch.testing.assert_close(P.sum(1), torch.ones(len(X), dtype=X.dtype))
    shift = torch.linspace(-30, 30, len(X), dtype=X.dtype).reshape(-1, 1)
    torch.testing.assert_close(scratch.softmax(X + shift), P)


@given(arrays(np.float32, (3, 4), elements=st.sampled_from([-1000.0, 1000.0, 0.0])))
def test_stable_softmax_never_nan(X):
    P = scratch.softmax(torch.from_numpy(X))
    assert torch.isfinite(P).all()
    torch.testing.assert_close(P, torch.softmax(torch.from_numpy(X), dim=1))


def test_naive_softmax_overflows_where_the_stable_one_does_not():
    X = torch.tensor([[100.0, 0.0]])  # exp(100) is inf in float32
    assert torch.isnan(scratch.softmax_naive(X)).any()
    torch.testing.assert_close(scratch.softmax(X), torch.tensor([[1.0, math.exp(-100)]]))


# --- losses: forward and gradient against torch --------------------------------------------

@settings(max_examples=50)
@given(logits, st.data())
def test_cross_entropy_matches_torch_forward_and_gradient(X, data):
    labels = data.draw(st.lists(st.integers(0, X.shape[1] - 1), min_size=len(X), max_size=len(X)))
    y = torch.tensor(labels)
    Z1 = torch.from_numpy(X).requires_grad_(True)
    Z2 = torch.from_numpy(X).requires_grad_(True)
    mine = scratch.cross_entropy(scratch.softmax(Z1), y)
    ref = F.cross_entropy(Z2, y, reduction="none")
    # Probabilities that underflow make -log(p) infinite: the book's design, see §3.7.
    finite = torch.isfinite(mine)
    torch.testing.assert_close(mine[finite], ref[finite])
    if finite.all():
        mine.sum().backward()
        ref.sum().backward()
        torch.testing.assert_close(Z1.grad, Z2.grad)


def test_squared_loss_matches_half_mse():
    y_hat, y = torch.randn(7, 1, requires_grad=True), torch.randn(7)
    y_hat2 = y_hat.detach().clone().requires_grad_(True)
    l1 = scratch.squared_loss(y_hat, y).mean()
    l2 = F.mse_loss(y_hat2, y.reshape(-1, 1)) / 2
    torch.testing.assert_close(l1, l2)
    l1.backward()
    l2.backward()
    torch.testing.assert_close(y_hat.grad, y_hat2.grad)


def test_softmax_cross_entropy_gradcheck():
    X = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0, 3, 4, 1])
    assert torch.autograd.gradcheck(lambda Z: scratch.cross_entropy(scratch.softmax(Z), y), (X,))


# --- optimizers ----------------------------------------------------------------------------

def test_sgd_class_equals_book_sgd_and_torch_sgd():
    torch.manual_seed(0)
    X, y = torch.randn(10, 3), torch.randn(10, 1)
    w0 = torch.randn(3, 1)
    ws = [w0.clone().requires_grad_(True) for _ in range(3)]
    # book: summed loss, sgd divides by batch size
    scratch.squared_loss(X @ ws[0], y).sum().backward()
    scratch.sgd([ws[0]], lr=0.1, batch_size=10)
    # the loop's convention: mean loss, SGD class / torch.optim.SGD
    for w, opt in ((ws[1], scratch.SGD([ws[1]], 0.1)), (ws[2], torch.optim.SGD([ws[2]], 0.1))):
        opt.zero_grad()
        scratch.squared_loss(X @ w, y).mean().backward()
        opt.step()
    torch.testing.assert_close(ws[0], ws[1])
    torch.testing.assert_close(ws[1], ws[2])


# --- misuse gives a clear error ------------------------------------------------------------

def test_linreg_shape_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(2, 1\)"):
        scratch.linreg(torch.zeros(4, 3), torch.zeros(2, 1), torch.zeros(1))


def test_cross_entropy_rejects_bad_labels():
    y_hat = torch.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match="labels must lie in"):
        scratch.cross_entropy(y_hat, torch.tensor([0, 3]))
    with pytest.raises(TypeError, match="integer class labels"):
        scratch.cross_entropy(y_hat, torch.tensor([0.0, 1.0]))


# --- scratch == concise ----------------------------------------------------------------------

def test_linear_regression_recovers_w_and_b_and_versions_agree():
    c = ch3.compare_linear_regression()
    for impl in ("scratch", "concise"):
        assert max(abs(e) for e in c.extra[impl]["w_error"]) < 0.01
        assert abs(c.extra[impl]["b_error"]) < 0.01
    # Measured 0.0: lr/2 with nn.MSELoss makes the very same float32 updates.
    assert c.max_param_diff < 1e-6


def test_concise_linear_starts_from_scratch_parameters():
    torch.manual_seed(3)
    net_s = scratch.LinearRegression(2)
    net_c = concise.linear_regression(2)
    from d2lnotes.utils.train import copy_into_linear

    copy_into_linear(net_c[0], net_s.w.detach(), net_s.b.detach())
    X = torch.randn(5, 2)
    torch.testing.assert_close(net_s(X), net_c(X))


def test_softmax_regression_on_fashion_mnist(fashion_mnist):
    c = ch3.compare_softmax_regression(data=fashion_mnist)  # book settings, 10 epochs
    for impl in ("scratch", "concise"):
        assert c.histories[impl].test_acc[-1] >= 0.82
        assert len(c.histories[impl].train_loss) == 10
    # Measured 7.7e-7 on CPU: float32 rounding only (log-softmax vs log of softmax).
    assert c.max_param_diff < 1e-5
