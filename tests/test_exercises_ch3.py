"""The answers to chapter 3's exercises (d2lnotes.exercises.sec3_*): each claim recomputed.

A test is named after the exercise's classic number, so ``test_3_6_1_...`` proves 3.6.1.
Trainings run at small settings; the claims are properties that hold for every seed tried.
"""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from d2lnotes.ch3 import scratch
from d2lnotes.exercises import sec3_1, sec3_2, sec3_3, sec3_4, sec3_5, sec3_6, sec3_7
from d2lnotes.utils.data import load_array

# --- §3.1 --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_3_1_1_best_constant(seed):
    values = sec3_1.best_constant(seed=seed).values
    assert abs(values["grid_argmin_squared"] - values["mean"]) <= values["grid_step"]
    assert abs(values["grid_argmin_absolute"] - values["median"]) <= values["grid_step"]


@pytest.mark.slow
def test_3_1_2_analytic_solution():
    values = sec3_1.analytic_solution(seed=1, num_examples=500).values
    assert values["closed_vs_lstsq"] < 1e-10
    assert (values["w"] - torch.tensor(values["true"], dtype=torch.float64)).abs().max() < 0.01
    assert values["sgd_max_error"] < 0.1  # 150 steps of SGD head the same way
    assert values["duplicated_column_rank"] == values["duplicated_columns"] - 1


@pytest.mark.parametrize("seed", [0, 1])
def test_3_1_3_laplace_noise(seed):
    values = sec3_1.laplace_noise(seed=seed, steps=600).values
    # A fixed step keeps jumping around the optimum; a decaying one settles near the median.
    assert values["fixed_std"] > 3 * values["decayed_std"]
    assert abs(values["decayed_mean"] - values["median"]) < 0.25


# --- §3.2 --------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_3_2_1_zero_init(seed):
    """Guards a common wrong answer: zero-initialised linear regression converges."""
    features, labels = sec3_2.section_data(seed, 500)
    net, history = sec3_2.fit_linear(features, labels, lr=0.1, num_epochs=2, seed=seed,
                                     zero_init=True)
    assert (net.w.detach().flatten() - sec3_2.TRUE_W).abs().max() < 0.01
    assert abs(float(net.b.detach()) - sec3_2.TRUE_B) < 0.01
    assert history.train_loss[-1] < 1e-3


@pytest.mark.slow
def test_3_2_2_ohms_law():
    values = sec3_2.ohms_law(seed=3, num_examples=100).values
    assert values["R"] == pytest.approx(values["true_R"], rel=0.02)
    assert abs(values["offset"]) < 0.05


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_3_2_3_planck_temperature(seed):
    values = sec3_2.planck_temperature(seed=seed).values
    assert values["relative_error"] < 0.01


def test_3_2_4_second_derivatives():
    values = sec3_2.second_derivatives().values
    assert values["error"] != "no error"
    assert values["max_gap"] < 1e-12


def test_3_2_5_reshape_in_loss():
    values = sec3_2.reshape_in_loss().values
    assert values["shape_without"] == [8, 8] and values["shape_with"] == [8, 1]
    assert values["loss_without"] > 100 * values["loss_with"]
    y_hat, y = torch.zeros(4, 1), torch.ones(4)
    assert scratch.squared_loss(y_hat, y).shape == (4, 1)


@pytest.mark.slow
def test_3_2_6_learning_rates():
    values = sec3_2.learning_rates(seed=2, lrs=(0.001, 0.01, 0.1)).values
    losses = list(values["loss_after_1_epoch"].values())
    assert losses == sorted(losses, reverse=True)  # faster with larger rates, up to a point
    assert 0.1 < values["stability_limit"] < sec3_2.DIVERGING_LR
    assert values["diverges_at"] == sec3_2.DIVERGING_LR


@pytest.mark.parametrize("num_examples, batch_size", [(1000, 64), (10, 3), (100, 10)])
def test_3_2_7_last_batch(num_examples, batch_size):
    """Guards a common wrong answer: data_iter yields a short last batch, it drops nothing."""
    features, labels = sec3_2.section_data(0, num_examples)
    sizes = [len(X) for X, _ in sec3_2.data_iter(batch_size, features, labels)]
    assert sum(sizes) == num_examples
    assert sizes[-1] == (num_examples % batch_size or batch_size)
    assert sizes == [len(X) for X, _ in load_array((features, labels), batch_size)]
    values = sec3_2.last_batch(num_examples=num_examples, batch_size=batch_size).values
    assert len(values["book_sizes"]) == values["expected_batches"]


# --- §3.3 --------------------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [10, 25])
def test_3_3_1_sum_to_mean(batch_size):
    """Guards a common wrong answer: from sum to mean, lr must grow batch_size times."""
    values = sec3_3.sum_to_mean(batch_size=batch_size, num_examples=200, num_epochs=1).values
    assert values["lr_mean"] == values["lr_sum"] * batch_size
    assert values["gap_scaled_lr"] < 1e-6
    assert values["gap_same_lr"] > 0.1


@pytest.mark.slow
def test_3_3_2_huber():
    values = sec3_3.huber(seed=1, num_examples=300, num_epochs=3, lr=0.1).values
    assert values["gap_to_smooth_l1"] == 0
    assert values["huber"]["b_error"] < values["squared"]["b_error"] / 5
    assert values["huber"]["w_error"] < values["squared"]["w_error"]
    r = torch.linspace(-5, 5, 41)
    for sigma in (0.5, 2.0):
        ours = sec3_3.huber_loss(r, torch.zeros_like(r), sigma)
        assert torch.allclose(ours, nn.SmoothL1Loss(reduction="none", beta=sigma)(r, 0 * r))
        assert torch.allclose(sigma * ours, nn.HuberLoss(reduction="none", delta=sigma)(r, 0 * r))


def test_3_3_3_weight_gradient():
    values = sec3_3.weight_gradient().values
    assert values["shape"] == [1, 2]
    assert values["max_gap"] < 1e-5


# --- §3.4 --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_3_4_1_cross_entropy_hessian(seed):
    """Guards a common wrong answer: the softmax's covariance is diag(p) - p p^T."""
    values = sec3_4.cross_entropy_hessian(seed=seed).values
    p = values["p"]
    assert torch.allclose(values["covariance"], torch.diag(p) - torch.outer(p, p))
    assert values["max_gap"] < 1e-12 and values["expectation_gap"] < 1e-12
    assert torch.allclose(values["row_sums"], torch.zeros_like(p), atol=1e-12)


def test_3_4_1_covariance_of_sampled_one_hots():
    p = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    generator = torch.Generator().manual_seed(0)
    Y = torch.eye(3, dtype=torch.float64)[torch.multinomial(p, 100_000, True, generator=generator)]
    sample_cov = torch.cov(Y.T)
    assert torch.allclose(sample_cov, sec3_4.softmax_covariance(p), atol=5e-3)
    assert not torch.allclose(sample_cov, torch.diag(p * (1 - p)), atol=5e-3)  # off-diagonals


def test_3_4_2_coding_three_classes():
    values = sec3_4.coding_three_classes().values
    bits = {int(k): v for k, v in values["bits_per_class"].items()}
    assert bits[1] == 2
    assert all(b >= values["entropy_bits"] for b in bits.values())
    assert bits[5] == 8 / 5 and bits[17] == 27 / 17 < 1.6
    assert 3 ** 5 <= 2 ** 8 < 3 ** 6


@given(st.floats(-50, 50), st.floats(-50, 50), st.floats(0.1, 20))
def test_3_4_3_real_softmax_limits(a, b, lam):
    x = torch.tensor([a, b], dtype=torch.float64)
    value = float(sec3_4.real_softmax(x, lam))
    tol = 1e-12 * (1 + abs(a) + abs(b))  # dividing lam * x by lam rounds
    assert max(a, b) - tol <= value <= max(a, b) + math.log(2) / lam + tol
    if abs(a - b) * lam < 30:  # otherwise the gap is below float64's resolution
        assert value > max(a, b)
    soft_min = -float(sec3_4.real_softmax(-x, lam))
    assert min(a, b) - math.log(2) / lam - tol <= soft_min <= min(a, b) + tol


def test_3_4_3_real_softmax_values():
    values = sec3_4.real_softmax_limits().values
    assert 0 < values["pair_gap_min"] and values["pair_gap_max"] <= math.log(2)
    gaps = list(values["largest_gap_5"].values())
    assert gaps == sorted(gaps, reverse=True)
    for lam, gap in values["largest_gap_5"].items():
        assert gap <= math.log(5) / float(lam)


# --- §3.5 --------------------------------------------------------------------------------


def test_3_5_1_batch_size_and_reading(fashion_mnist_raw):
    values = sec3_5.batch_size_and_reading(num_examples=600).values
    for batch_size, row in values["rows"].items():
        assert row["batches"] == values["expected_batches"][batch_size]
        assert row["examples"] == 600
    label_sums = {row["label_sum"] for row in values["rows"].values()}
    assert len(label_sums) == 1  # every batch size reads the same images, each once


def test_3_5_2_iterator_speed(fashion_mnist_raw):
    values = sec3_5.iterator_speed(num_examples=500, batch_size=100).values
    ours, theirs = values["array_loader"], values["data_loader"]
    assert ours["batches"] == theirs["batches"] == 5
    assert ours["examples"] == theirs["examples"] == 500
    assert ours["label_sum"] == theirs["label_sum"]  # the same images, each once
    assert theirs["getitem_calls"] == 500  # one call per image, against 5 slices


# --- §3.6 --------------------------------------------------------------------------------


def test_3_6_1_naive_softmax_overflow():
    """Guards a common wrong answer: exp(50) is finite in float32; overflow starts at 88.72."""
    x_max = math.log(torch.finfo(torch.float32).max)
    assert torch.isfinite(torch.exp(torch.tensor(50.0)))
    assert torch.isfinite(torch.exp(torch.tensor(x_max - 1e-3)))
    assert torch.isinf(torch.exp(torch.tensor(x_max + 1e-3)))
    values = sec3_6.naive_softmax_overflow().values
    assert values["overflow_point"] == x_max
    assert torch.isnan(values["naive_100_0"]).any() and torch.isnan(values["naive_-200_-201"]).all()
    assert torch.allclose(values["stable_100_0"].sum(), torch.tensor(1.0))
    reference = torch.softmax(torch.tensor([-200.0, -201.0]), dim=0)
    assert torch.allclose(values["stable_-200_-201"], reference)
    x_min = values["underflow_point"]
    assert torch.exp(torch.tensor(x_min - 0.01)) == 0 < torch.exp(torch.tensor(x_min + 0.01))


def test_3_6_2_cross_entropy_log_zero():
    values = sec3_6.cross_entropy_log_zero().values
    assert values["probability"] == 0
    assert math.isinf(values["loss"])
    assert torch.isnan(values["grad"]).all()


def test_3_6_3_log_sum_exp_fix():
    values = sec3_6.log_sum_exp_fix().values
    assert not torch.isfinite(values["naive"]).all()
    assert torch.isfinite(values["fused"]).all()
    assert values["gap_to_float64"] < 1e-4
    assert torch.allclose(values["fused"], values["torch"])


def test_3_6_4_costly_mistakes():
    values = sec3_6.costly_mistakes().values
    assert values["argmax"] == "healthy" and values["least_cost"] == "ill"
    # With equal costs the least-cost decision is the arg-max again.
    assert sec3_6.costly_mistakes(miss_cost=1.0).values["least_cost"] == "healthy"
    assert values["threshold"] == pytest.approx(1 / 51)


def test_3_6_5_large_vocabulary():
    values = sec3_6.large_vocabulary(num_inputs=4, vocab_size=10, batch_size=2).values
    assert values["parameters"] == sum(p.numel() for p in nn.Linear(4, 10).parameters())
    assert values["flops_per_batch"] == 2 * 2 * 4 * 10


# --- §3.7 --------------------------------------------------------------------------------


@pytest.mark.slow
def test_3_7_1_hyperparameters(fashion_mnist_raw):
    runs = sec3_7.hyperparameters(seed=1, num_train=1000, num_test=200).values["runs"]
    assert runs["base"]["train_loss"] < runs["small_lr"]["train_loss"]
    assert runs["more_epochs"]["train_loss"] < runs["base"]["train_loss"]
    assert runs["big_batch"]["train_loss"] > runs["base"]["train_loss"]  # 4x fewer steps
    assert runs["big_batch"]["steps"] * 4 == runs["base"]["steps"]


@pytest.mark.slow
def test_3_7_2_many_epochs(fashion_mnist_raw):
    values = sec3_7.many_epochs(seed=1, num_test=500, num_epochs=20).values
    assert values["train_acc"][-1] > 0.95
    assert values["gap_last"] > values["gap_first"] + 0.15
    assert values["train_loss"][-1] < values["train_loss"][0] / 3
