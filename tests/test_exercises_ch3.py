"""The answers to chapter 3's exercises (d2lnotes.exercises.sec3_*): each claim recomputed.

A test is named after the exercise's classic number, so ``test_3_6_1_...`` proves 3.6.1.
Trainings run at small settings; the claims are properties that hold for every seed tried.
"""

import pytest
import torch
from torch import nn

from d2lnotes.ch3 import scratch
from d2lnotes.exercises import sec3_1, sec3_2, sec3_3
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


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_3_1_3_laplace_noise(seed):
    values = sec3_1.laplace_noise(seed=seed, steps=900).values
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
