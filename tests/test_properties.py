"""Random shapes and values into the scratch functions: each call returns the right answer
(checked against torch) or raises the documented ValueError / TypeError, nothing else."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from d2lnotes.ch3 import scratch as ch3

floats = st.floats(-1e3, 1e3, width=32)
small_shapes = array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5)


@given(arrays(np.float32, small_shapes, elements=floats),
       arrays(np.float32, small_shapes, elements=floats))
def test_linreg_any_shapes(X, w):
    X, w, b = torch.from_numpy(X), torch.from_numpy(w), torch.tensor(0.5)
    try:
        y_hat = ch3.linreg(X, w, b)
    except ValueError as e:
        assert "linreg" in str(e) and str(tuple(X.shape)) in str(e)
        assert w.ndim > 2 or X.shape[-1] != w.shape[0]
        return
    torch.testing.assert_close(y_hat, torch.matmul(X, w) + b)


@given(arrays(np.float32, array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6),
              elements=floats), st.data())
def test_cross_entropy_any_labels(P, data):
    n, q = P.shape
    y = torch.tensor(data.draw(st.lists(st.integers(-3, q + 3), min_size=n, max_size=n)))
    probs = ch3.softmax(torch.from_numpy(P))
    try:
        l = ch3.cross_entropy(probs, y)
    except ValueError as e:
        assert "labels must lie in" in str(e) and ((y < 0) | (y >= q)).any()
        return
    torch.testing.assert_close(l, F.nll_loss(torch.log(probs), y, reduction="none"))


@given(st.sampled_from([torch.float32, torch.float64, torch.bool]), st.integers(1, 4))
def test_cross_entropy_rejects_non_integer_labels(dtype, n):
    y = torch.zeros(n, dtype=dtype)
    with pytest.raises(TypeError, match="integer class labels"):
        ch3.cross_entropy(torch.full((n, 3), 1 / 3), y)


@given(arrays(np.float32, array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6),
              elements=st.floats(-1e4, 1e4, width=32)))
def test_softmax_is_finite_and_correct_for_any_logits(X):
    X = torch.from_numpy(X)
    P = ch3.softmax(X)
    assert torch.isfinite(P).all()
    torch.testing.assert_close(P, torch.softmax(X, dim=1))


@given(arrays(np.float32, small_shapes, elements=floats), st.data())
def test_squared_loss_any_shapes(y_hat, data):
    y_hat = torch.from_numpy(y_hat)
    y = torch.from_numpy(data.draw(arrays(np.float32, st.just(y_hat.shape), elements=floats)))
    torch.testing.assert_close(ch3.squared_loss(y_hat, y), (y_hat - y) ** 2 / 2)


# --- Chapter 4 -------------------------------------------------------------------------------

from d2lnotes.ch4 import scratch as ch4  # noqa: E402


@given(arrays(np.float32, small_shapes, elements=floats), st.floats(-1, 2))
def test_dropout_layer_any_p(X, p):
    X = torch.from_numpy(X)
    try:
        out = ch4.dropout_layer(X, p)
    except ValueError as e:
        assert not 0 <= p <= 1 and str(p) in str(e)
        return
    assert out.shape == X.shape
    kept = out != 0
    if p == 1:
        assert not kept.any()
    else:
        # every element is dropped (0) or kept and scaled by 1 / (1 - p)
        torch.testing.assert_close(out[kept], X[kept] / (1 - p))


@given(arrays(np.float32, small_shapes, elements=st.floats(-1e4, 1e4, width=32)))
def test_activations_and_derivatives_any_input(X):
    X = torch.from_numpy(X)
    for f, ref in ((ch4.relu, torch.relu), (ch4.sigmoid, torch.sigmoid), (ch4.tanh, torch.tanh)):
        torch.testing.assert_close(f(X), ref(X))
    for grad, f in ((ch4.sigmoid_grad, torch.sigmoid), (ch4.tanh_grad, torch.tanh)):
        x = X.clone().requires_grad_(True)
        f(x).sum().backward()
        torch.testing.assert_close(grad(X), x.grad)
