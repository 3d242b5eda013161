"""The answers to chapter 2's exercises (d2lnotes.exercises.sec2_*): each claim recomputed.

A test is named after the exercise's classic number, so ``test_2_3_6_...`` proves 2.3.6.
"""

import math

import pytest
import torch

from d2lnotes.ch2 import scratch
from d2lnotes.ch2.tour import book_f
from d2lnotes.exercises import sec2_1, sec2_2, sec2_3, sec2_4, sec2_5, sec2_6

# --- §2.1 --------------------------------------------------------------------------------


def test_2_1_1_comparisons():
    X, Y = sec2_1.book_tensors()
    for mask, op in ((X < Y, torch.lt), (X > Y, torch.gt)):
        assert mask.dtype == torch.bool and mask.shape == X.shape
        assert torch.equal(mask, op(X, Y))
    values = sec2_1.comparisons().values
    assert values["partition"] is True
    assert int(values["less"].sum() + values["greater"].sum() + values["equal"].sum()) == X.numel()


def test_2_1_2_broadcasting_3d():
    for a, b in sec2_1.BROADCAST_CASES:
        assert (torch.zeros(a) + torch.zeros(b)).shape == scratch.broadcast_shape(a, b)
    with pytest.raises(RuntimeError):
        torch.zeros(sec2_1.CLASH[0]) + torch.zeros(sec2_1.CLASH[1])
    with pytest.raises(ValueError):
        scratch.broadcast_shape(*sec2_1.CLASH)
    assert sec2_1.broadcasting_3d().values["all_agree"] is True


# --- §2.2 --------------------------------------------------------------------------------


def test_2_2_1_drop_column():
    data = sec2_2.house_table()
    inputs = data.iloc[:, :-1]
    values = sec2_2.drop_column().values
    missing = inputs.isna().sum()
    assert missing[values["dropped"]] == missing.max()
    assert values["dropped"] not in values["kept"]
    assert len(values["kept"]) == inputs.shape[1] - 1


def test_2_2_2_to_tensor():
    values = sec2_2.to_tensor().values
    X = values["X"]
    assert isinstance(X, torch.Tensor) and X.dtype == torch.float64
    assert not X.isnan().any()
    assert X.shape[0] == len(sec2_2.house_table())
    assert all(not c.startswith("Pool") for c in values["columns"])


# --- §2.3 --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_2_3_1_transpose_twice(seed):
    assert sec2_3.transpose_twice(seed=seed).values["equal"] is True
    A = torch.randn(4, 7)
    assert torch.equal(A.T.T, A)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_2_3_2_transpose_of_sum(seed):
    assert sec2_3.transpose_of_sum(seed=seed).values["equal"] is True


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_2_3_3_sum_with_transpose_symmetric(seed):
    assert sec2_3.sum_with_transpose_symmetric(seed=seed).values["symmetric"] is True
    A = torch.randn(5, 5)
    assert not torch.equal(A, A.T)  # A itself is not symmetric; the sum is
    assert torch.equal(A + A.T, (A + A.T).T)


def test_2_3_4_len_of_x():
    assert len(torch.zeros(2, 3, 4)) == 2
    assert sec2_3.len_of_x().values["len"] == 2


def test_2_3_5_len_is_axis_0():
    values = sec2_3.len_is_axis_0().values
    assert values["all_axis_0"] is True
    with pytest.raises(TypeError):
        len(torch.tensor(1.0))


def test_2_3_6_divide_by_row_sums():
    A = torch.arange(20, dtype=torch.float32).reshape(5, 4)
    with pytest.raises(RuntimeError):
        A / A.sum(axis=1)
    values = sec2_3.divide_by_row_sums().values
    assert not torch.allclose(values["square_wrong_row_sums"], torch.ones(3))
    assert torch.allclose(values["keepdim_row_sums"], torch.ones(3))


def test_2_3_7_manhattan_distance():
    values = sec2_3.manhattan_distance().values
    delta = (values["end"] - values["start"]).abs()
    assert values["l1"] == float(delta.sum())
    assert values["l2"] < values["l1"]  # the diagonal would be shorter, but is not allowed


def test_2_3_8_sum_shapes():
    shapes = sec2_3.sum_shapes().values["shapes"]
    assert shapes == {"0": (3, 4), "1": (2, 4), "2": (2, 3)}


def test_2_3_9_norm_of_tensor():
    values = sec2_3.norm_of_tensor().values
    assert math.isclose(values["linalg_norm"], values["by_hand"], rel_tol=1e-6)
    X = torch.randn(2, 3, 4, 5)
    assert torch.isclose(torch.linalg.norm(X), X.flatten().pow(2).sum().sqrt())


# --- §2.4 --------------------------------------------------------------------------------


def test_2_4_1_tangent_line():
    answer = sec2_4.tangent_line()
    values = answer.values
    assert values["slope"] == 4 and values["intercept"] == -4
    assert values["slope_autograd"] == pytest.approx(4)
    quotients = list(values["difference_quotients"].values())
    assert all(abs(a - 4) > abs(b - 4) for a, b in zip(quotients, quotients[1:]))
    assert answer.figure is not None


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_2_4_2_gradient_quadratic_exp(seed):
    values = sec2_4.gradient_quadratic_exp(seed=seed).values
    x = values["x"]
    numerical = scratch.numerical_grad(sec2_4.quadratic_plus_exp, x)
    assert torch.allclose(values["by_hand"], numerical, atol=1e-6)
    assert values["max_gap"] < 1e-12


def test_2_4_3_gradient_of_norm():
    values = sec2_4.gradient_of_norm().values
    assert torch.allclose(values["by_hand"], values["numerical"], atol=1e-8)
    assert torch.allclose(values["by_hand"], values["autograd"])
    assert torch.linalg.norm(values["by_hand"]) == pytest.approx(1)
    assert torch.equal(values["autograd_at_zero"], torch.zeros(3, dtype=torch.float64))


def test_2_4_4_multivariate_chain_rule():
    values = sec2_4.multivariate_chain_rule().values
    a, b = 0.7, -1.3
    by_differences = scratch.numerical_grad(lambda v: sec2_4.chain_example(v[0], v[1]),
                                            torch.tensor([a, b], dtype=torch.float64))
    assert values["du_da"] == pytest.approx(float(by_differences[0]), abs=1e-8)
    assert values["du_db"] == pytest.approx(float(by_differences[1]), abs=1e-8)


# --- §2.5 --------------------------------------------------------------------------------


def test_2_5_1_second_derivative_cost():
    values = sec2_5.second_derivative_cost().values
    assert values["nodes_grad"] > values["nodes_y"]
    assert values["passes"] == values["inputs"]
    assert values["hessian_gap"] < 1e-12


def test_2_5_2_backward_twice():
    x = torch.arange(4.0, requires_grad=True)
    y = 2 * torch.dot(x, x)
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()
    values = sec2_5.backward_twice().values
    assert torch.equal(values["once"], 4 * torch.arange(4.0))
    assert torch.equal(values["twice"], 2 * values["once"])


@pytest.mark.parametrize("shape", [(5,), (3, 2)])
def test_2_5_3_control_flow_vector(shape):
    a = torch.randn(shape, requires_grad=True)
    d = book_f(a)
    with pytest.raises(RuntimeError, match="scalar"):
        d.backward()
    d.sum().backward()
    assert torch.allclose(a.grad, (d / a).detach())
    cases = sec2_5.control_flow_vector().values["cases"]
    assert all(c["grad_is_d_over_a"] and c["one_factor"] for c in cases.values())


def test_2_5_4_control_flow_power():
    values = sec2_5.control_flow_power().values
    assert values["agree"] is True
    assert values["cases"]["3.0"]["k"] == 5  # 3^4 = 81 < 100 <= 3^5
    a = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    sec2_5.power_until(a).backward()
    assert float(a.grad) == 5 * 3.0 ** 4


def test_2_5_5_sine_derivative():
    answer = sec2_5.sine_derivative()
    assert answer.values["max_gap_to_cos"] < 1e-6
    x = torch.linspace(0, 3, 7, dtype=torch.float64)
    numerical = scratch.numerical_grad(lambda v: torch.sin(v).sum(), x)
    assert torch.allclose(numerical, torch.cos(x), atol=1e-8)
    assert answer.figure is not None


# --- §2.6 --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_2_6_1_groups_and_draws(seed):
    rows = sec2_6.groups_and_draws(seed=seed, repeats=60).values["rows"]
    for row in rows.values():  # the error follows sqrt(p(1-p)/N) ...
        assert 0.7 < row["rms_error"] / row["theory"] < 1.3
    errors = [row["rms_error"] for row in sorted(rows.values(), key=lambda r: r["draws"])]
    assert errors[0] > 2 * errors[-1] * 1.5  # ... so 100x the rolls is ~10x less error


@pytest.mark.parametrize("p_a, p_b", [(0.3, 0.5), (0.7, 0.6), (0.0, 1.0), (0.5, 0.5)])
def test_2_6_2_union_intersection_bounds(p_a, p_b):
    low_u, high_u, low_i, high_i = sec2_6.bounds(p_a, p_b)
    assert low_u <= high_u and low_i <= high_i
    # inclusion-exclusion ties each union bound to an intersection bound
    assert high_u == pytest.approx(p_a + p_b - low_i)
    assert low_u == pytest.approx(p_a + p_b - high_i)
    for case in sec2_6.union_intersection_bounds().values["cases"].values():
        assert case["random_inside"] is True
        assert list(case["reached"].values()) == pytest.approx(case["bounds"])


@pytest.mark.parametrize("seed", [0, 1])
def test_2_6_3_markov_chain(seed):
    values = sec2_6.markov_chain(seed=seed).values
    assert values["total"] == pytest.approx(1)
    assert values["max_gap"] < 1e-12


def test_2_6_4_repeat_the_first_test():
    values = sec2_6.repeat_the_first_test().values
    # The book's figures: 0.1306 after the first test, 0.8307 after both.
    assert values["one_test"] == pytest.approx(0.0015 / (0.0015 + 0.9985 * 0.01))
    assert values["both_tests"] == pytest.approx(0.8307, abs=5e-5)
    assert values["first_twice_if_errors_repeat"] == values["one_test"]
    assert values["first_twice_if_independent"] > values["both_tests"]
