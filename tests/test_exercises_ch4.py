"""The answers to Chapter 4's exercises (classic §4.1-§4.10): each test recomputes an answer,
or the chapter code it rests on, and asserts its claim: a property, a bound or an equality.

The Fashion-MNIST experiments share one small subset (``sec4_2.fashion_subset``) and run at
1-3 epochs; properties asserted here held for every seed tried (0-4).
"""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from d2lnotes.ch4 import variants
from d2lnotes.exercises import sec4_1

# --- §4.1 -----------------------------------------------------------------------------------


@given(st.floats(-20, 20), st.floats(0, 1))
def test_4_1_1_prelu_derivative(x, alpha):
    X = torch.tensor([x], dtype=torch.float64, requires_grad=True)
    a = torch.tensor(alpha, dtype=torch.float64, requires_grad=True)
    variants.prelu(X, a).sum().backward()
    dx, da = variants.prelu_grad(X.detach(), alpha)
    torch.testing.assert_close(dx, X.grad)
    torch.testing.assert_close(da.sum(), a.grad)
    torch.testing.assert_close(variants.prelu(X.detach(), alpha),
                               F.prelu(X.detach(), torch.tensor([alpha], dtype=torch.float64)))
    values = sec4_1.prelu_derivative(alpha=0.1).values
    assert values["max_dx_diff_vs_autograd"] == 0 and values["dalpha_diff_vs_autograd"] < 1e-12


@pytest.mark.parametrize("seed", range(3))
def test_4_1_2_piecewise_linear(seed):
    values = sec4_1.piecewise_linear(seed=seed).values
    # Few kinks among 20000 points: the slope is constant almost everywhere ...
    assert 0 < values["points_with_curvature"] < 0.01 * values["num_points"]
    # ... and bounded, so the function has no jumps.
    assert values["max_abs_slope"] <= values["lipschitz_bound"] + 1e-9


def test_4_1_3_tanh_is_a_scaled_sigmoid():
    assert sec4_1.tanh_is_a_scaled_sigmoid().values["max_abs_diff"] < 1e-15
    x = torch.linspace(-10, 10, 2001, dtype=torch.float64)
    torch.testing.assert_close(torch.tanh(x) + 1, 2 * torch.sigmoid(2 * x))


def test_4_1_4_minibatch_nonlinearity():
    values = sec4_1.minibatch_nonlinearity().values
    assert values["same_example_diff"] > 0.1
    assert values["batch_of_one"] != "accepted"
