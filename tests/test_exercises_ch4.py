"""The answers to Chapter 4's exercises (classic §4.1-§4.10): each test recomputes an answer,
or the chapter code it rests on, and asserts its claim: a property, a bound or an equality.

The Fashion-MNIST experiments share one small subset (``sec4_2.fashion_subset``) and run at
1-3 epochs; properties asserted here held for every seed tried (0-4).
"""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from d2lnotes.ch4 import scratch, variants
from d2lnotes.exercises import (
    sec4_1,
    sec4_2,
    sec4_3,
    sec4_4,
    sec4_5,
    sec4_6,
    sec4_7,
    sec4_8,
    sec4_9,
    sec4_10,
    select,
)

# --- §4.1 -----------------------------------------------------------------------------------


@settings(max_examples=25)
@given(st.floats(-20, 20), st.floats(0, 1))
def test_prelu_grad_matches_autograd(x, alpha):
    """Against torch's F.prelu everywhere (at the kink x = 0 both take alpha), and against
    autograd through our clamps away from it (at 0 each clamp passes the gradient)."""
    X = torch.tensor([x], dtype=torch.float64, requires_grad=True)
    a = torch.tensor([alpha], dtype=torch.float64, requires_grad=True)
    F.prelu(X, a).sum().backward()
    dx, da = variants.prelu_grad(X.detach(), alpha)
    torch.testing.assert_close(dx, X.grad)
    torch.testing.assert_close(da.sum(), a.grad.sum())
    torch.testing.assert_close(variants.prelu(X.detach(), alpha), F.prelu(X.detach(), a.detach()))
    if x != 0:
        Xs = X.detach().clone().requires_grad_(True)
        variants.prelu(Xs, alpha).sum().backward()
        torch.testing.assert_close(dx, Xs.grad)


def test_prelu_grad_at_the_kink():
    for alpha in (0.25, 1.0):
        X = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        F.prelu(X, torch.tensor([alpha], dtype=torch.float64)).sum().backward()
        assert float(variants.prelu_grad(X.detach(), alpha)[0]) == float(X.grad) == alpha


def test_4_1_1_prelu_derivative():
    values = sec4_1.prelu_derivative(alpha=0.1).values
    assert values["max_value_diff_vs_torch"] == 0
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


# --- §4.2-4.3: small Fashion-MNIST runs, cached in sec4_2.fit and shared between tests ------

@pytest.mark.slow
def test_4_2_1_num_hiddens(fashion_mnist_raw):
    accuracy = sec4_2.num_hiddens(sizes=(1, 256)).values["test_accuracy"]
    assert accuracy[256] > accuracy[1] + 0.2


@pytest.mark.slow
def test_4_2_2_extra_hidden_layer(fashion_mnist_raw):
    values = sec4_2.extra_hidden_layer().values
    assert values["two_hidden_layers"] < values["one_hidden_layer"] - 0.1


@pytest.mark.slow
def test_4_2_3_learning_rate(fashion_mnist_raw):
    values = sec4_2.learning_rate(lrs=(0.01, 0.1, 3.0)).values
    accuracy = values["test_accuracy"]
    assert values["best"] == 0.1
    assert accuracy[0.01] < accuracy[0.1] - 0.15
    assert accuracy[3.0] is None or accuracy[3.0] < 0.2


def test_4_2_6_random_search():
    values = sec4_2.random_search(budget=25).values
    assert values["grid_distinct_per_axis"] == 5
    assert values["random_distinct_per_axis"] == 25


@pytest.mark.slow
def test_4_3_1_hidden_layers(fashion_mnist_raw):
    values = sec4_3.hidden_layers(depths=(3,)).values
    assert values["book_init"][3] < 0.2  # chance is 0.1
    assert values["kaiming_init"][3] > 0.6


@pytest.mark.slow
def test_4_3_2_activations(fashion_mnist_raw):
    accuracy = sec4_3.activations(names=("ReLU", "sigmoid")).values["test_accuracy"]
    assert accuracy["sigmoid"] < accuracy["ReLU"] - 0.1


@pytest.mark.slow
def test_4_3_3_initialisations(fashion_mnist_raw):
    values = sec4_3.initialisations(names=("N(0, 0.01^2)", "Kaiming normal", "zeros")).values
    accuracy = values["test_accuracy"]
    assert values["zeros_W1_max_abs_after_training"] == 0
    assert accuracy["zeros"] < 0.2
    assert accuracy["Kaiming normal"] > accuracy["N(0, 0.01^2)"]


# --- §4.4 -----------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(3))
def test_4_4_1_exact_solution(seed):
    values = sec4_4.exact_solution(seed=seed).values
    assert values["max_abs_gradient"] < 1e-10  # the normal equations hold
    assert values["train_loss"] <= values["train_loss_true_w"]  # nothing fits the sample better
    assert values["max_abs_error"] < 0.2


@pytest.mark.parametrize("seed", range(3))
def test_4_4_2_loss_vs_degree_and_data(seed):
    values = sec4_4.loss_vs_degree_and_data(seed=seed).values
    train_loss, test_loss = values["train_loss"], values["test_loss"]
    # Nested models: never worse, up to the truncation of tiny singular values in lstsq.
    assert all(b <= a * (1 + 1e-5) for a, b in zip(train_loss, train_loss[1:]))
    assert 4 <= values["best_num_features"] <= 8
    assert test_loss[-1] > 10 * test_loss[3]  # 20 features overfit 100 examples
    by_n = values["test_loss_20_features_by_n_train"]
    assert by_n[1000] < by_n[100] < by_n[25]
    small = values["train_loss_small_by_num_features"]
    n = values["n_small"]
    assert small[n] < 1e-12 < small[n - 1]  # n features interpolate n examples


@pytest.mark.parametrize("seed", range(2))
def test_4_4_3_without_factorials(seed):
    values = sec4_4.without_factorials(seed=seed).values
    assert values["largest_raw_feature"] > 1e5
    assert values["train_loss_unscaled"] is None  # diverged
    assert values["train_loss_book"] < 10 and values["train_loss_rescaled_x"] < 100


def test_4_4_4_zero_generalisation_error():
    values = sec4_4.zero_generalisation_error(n=20_000).values
    assert values["test_loss_of_true_w"] == pytest.approx(values["noise_floor"], rel=0.1)
    assert values["test_loss_of_true_w"] > 0


# --- §4.5 -----------------------------------------------------------------------------------

@pytest.mark.slow
def test_4_5_1_lambda_sweep():
    values = sec4_5.lambda_sweep(lambdas=(0, 3, 30)).values
    w_norm, train_loss, test_loss = values["w_norm"], values["train_loss"], values["test_loss"]
    assert w_norm[0] > w_norm[3] > w_norm[30]
    assert train_loss[0] < train_loss[3] < train_loss[30]
    assert test_loss[3] < test_loss[0] / 10


@pytest.mark.slow
def test_4_5_2_validation_lambda():
    values = sec4_5.validation_lambda(lambdas=(0, 3, 30)).values
    assert values["chosen"] != 0
    assert values["test_loss_chosen"] < values["test_loss_no_decay"] / 10
    assert values["test_loss_chosen"] <= 2 * values["test_loss_best"]


def test_4_5_3_l1_update():
    assert sec4_5.l1_update().values["max_abs_diff"] < 1e-6
    w = torch.tensor([-2.0, -0.1, 0.3, 5.0], requires_grad=True)
    variants.l1_penalty(w).backward()
    torch.testing.assert_close(w.grad, torch.sign(w.detach()))


def test_4_5_4_frobenius():
    values = sec4_5.frobenius(seed=3).values
    assert values["frobenius_squared"] == pytest.approx(values["trace_WtW"], rel=1e-12)
    assert values["frobenius_squared"] == pytest.approx(values["sum_of_squares"], rel=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_4_5_6_gaussian_prior(seed):
    assert sec4_5.gaussian_prior(seed=seed).values["max_abs_diff"] < 1e-10


# --- §4.6: 500 examples, 10 epochs (4 where any training will do), cached in sec4_6.fit ---
# At 4 epochs the dropout net can still be ahead on the training set: 4.6.1-4.6.2 need 10.

EPOCHS_46 = 4


@pytest.mark.slow
def test_4_6_1_swapped_rates(fashion_mnist_raw):
    values = sec4_6.swapped_rates().values
    assert values["book_test_acc"] > 0.6 and values["swapped_test_acc"] > 0.6
    assert abs(values["book_test_acc"] - values["swapped_test_acc"]) < 0.1


@pytest.mark.slow
def test_4_6_2_more_epochs(fashion_mnist_raw):
    values = sec4_6.more_epochs().values
    assert values["no_dropout"]["train_acc"] > values["dropout"]["train_acc"]


@pytest.mark.slow
def test_4_6_3_activation_variances(fashion_mnist_raw):
    for first, second in sec4_6.activation_variances(num_epochs=1).values["ratio_dropped_to_plain"]:
        assert 1 < first < second  # p = 0.2 then p = 0.5
    torch.manual_seed(0)
    H = torch.rand(500, 400)
    for p in (0.2, 0.5):  # the variance formula: (Var h + E[h]^2) / (1 - p) - E[h]^2
        expected = (H.var() + H.mean() ** 2) / (1 - p) - H.mean() ** 2
        assert float(scratch.dropout_layer(H, p).var()) == pytest.approx(float(expected), rel=0.05)


def test_4_6_4_test_time(fashion_mnist_raw):
    values = sec4_6.test_time(num_passes=500).values
    assert values["train_mode_disagreement"] > 0.2
    assert values["eval_mode_disagreement"] == 0
    assert values["mask_average_error"] < 0.1


@pytest.mark.slow
def test_4_6_5_with_weight_decay(fashion_mnist_raw):
    values = sec4_6.with_weight_decay().values
    assert values["weight decay"]["weight_norm"] < values["neither"]["weight_norm"]
    assert values["both"]["weight_norm"] < values["dropout"]["weight_norm"]


@pytest.mark.slow
def test_4_6_6_dropconnect(fashion_mnist_raw):
    values = sec4_6.dropconnect(num_epochs=EPOCHS_46).values
    assert values["mask_average_error"] < 0.05
    assert values["test_acc"] > 0.5


@pytest.mark.slow
def test_4_6_7_gaussian_noise(fashion_mnist_raw):
    values = sec4_6.gaussian_noise(num_epochs=EPOCHS_46).values
    for name in ("gaussian", "dropout"):
        assert values[f"{name}_mean"] == pytest.approx(1, abs=0.01)
        assert values[f"{name}_var"] == pytest.approx(values["theory_var"], rel=0.02)
    assert values["test_acc"] > 0.5


# --- §4.7 -----------------------------------------------------------------------------------

def test_4_7_1_gradient_shape():
    values = sec4_7.gradient_shape(n=4, m=7).values
    assert values["shape_of_gradient"] == values["shape_of_X"] == (4, 7)


@pytest.mark.parametrize("seed", range(3))
def test_4_7_2_hidden_bias(seed):
    for gap in sec4_7.hidden_bias(seed=seed).values["max_abs_diff"].values():
        assert gap < 1e-12


def test_4_7_3_memory_footprint():
    values = sec4_7.memory_footprint(batch_sizes=(32, 128)).values
    for n, saved in values["saved_for_backward_bytes"].items():
        assert saved == 4 * (n * (784 + 2 * 256) + 256 * 10)  # X, ReLU output twice, W2
        assert values["saved_when_predicting_bytes"][n] == 0
    assert values["num_parameters"] == 784 * 256 + 256 + 256 * 10 + 10


@pytest.mark.parametrize("seed", range(3))
def test_4_7_4_second_derivatives(seed):
    """The softmax's covariance, diag(p) - p p^T, is cross-entropy's Hessian in the logits."""
    assert sec4_7.second_derivatives(seed=seed).values["max_abs_diff_vs_diag_p_minus_ppT"] < 1e-12
    o = torch.randn(6, dtype=torch.float64)
    hessian = torch.autograd.functional.hessian(
        lambda o: F.cross_entropy(o.reshape(1, -1), torch.tensor([2])), o)
    p = torch.softmax(o, 0)
    torch.testing.assert_close(hessian, torch.diag(p) - torch.outer(p, p))


# --- §4.8 -----------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(3))
def test_4_8_1_other_symmetries(seed):
    values = sec4_8.other_symmetries(seed=seed, c=0.25 + seed).values
    assert values["relu_rescaling_diff"] < 1e-12 and values["tanh_sign_flip_diff"] < 1e-12


@pytest.mark.slow
def test_4_8_2_equal_start(fashion_mnist_raw):
    """Zero-initialised linear regression converges: no hidden layer, no symmetry to break."""
    values = sec4_8.equal_start().values
    assert values["linear_zero_init_max_error"] < 0.01
    assert values["softmax_zero_init_test_acc"] > 0.6
    assert values["softmax_columns_min_distance"] > 0.1  # the ten outputs learnt apart


def test_4_8_3_product_bounds():
    values = sec4_8.product_bounds(trials=100).values
    assert values["max_radius_over_norm_product"] <= 1 + 1e-9
    assert values["max_cond_over_cond_product"] <= 1 + 1e-9
    assert values["gaussian_product_norm"] > 1e10
    assert values["orthogonal_product_norm"] == pytest.approx(1, abs=1e-9)


@pytest.mark.parametrize("lr, eta", [(0.1, 0.01), (1.0, 0.001)])
def test_4_8_4_lars(lr, eta):
    values = sec4_8.lars(lr=lr, eta=eta).values
    for relative in values["relative_update"]:
        assert relative == pytest.approx(lr * eta, rel=1e-4)


# --- §4.9 -----------------------------------------------------------------------------------

def test_4_9_2_shift_detector():
    accuracy = sec4_9.shift_detector(n=1000).values["detector_accuracy"]
    assert accuracy["shifted"] > 0.7
    assert 0.4 < accuracy["not shifted"] < 0.6


def test_4_9_3_shift_corrector():
    values = sec4_9.shift_corrector(n=2000).values
    assert values["target_loss_corrected"] < values["target_loss_uncorrected"] / 2
    assert values["target_loss_corrected"] < 1.5 * values["target_loss_fit_on_target"]


def test_4_9_4_empirical_risk_noise():
    assert 6 < sec4_9.empirical_risk_noise(repeats=100).values["ratio"] < 16


# --- §4.10 ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_4_10_2_log_price(kaggle_house):
    # 30 epochs (the answer runs 100): the log targets, at lr 0.05, are far ahead already.
    values = sec4_10.log_price(num_epochs=30, lr_log=0.05).values
    assert values["valid_log_rmse_log_target"] < 0.25
    assert values["valid_log_rmse_log_target"] < values["valid_log_rmse_price_target"]


@pytest.mark.parametrize("seed", range(3))
def test_4_10_3_mean_imputation(seed):
    values = sec4_10.mean_imputation(n=20_000, seed=seed).values
    assert values["observed_mean_at_random"] == pytest.approx(values["true_mean"], rel=0.02)
    assert values["observed_mean_not_at_random"] < 0.85 * values["true_mean"]
    assert values["std_after_mean_filling_at_random"] < 0.9 * values["true_std"]


# --- ch4/variants.py: the pieces the answers added beside the chapter's code ---------------

@pytest.mark.parametrize("layer", [variants.dropconnect_linear, variants.gaussian_noise_layer])
@pytest.mark.parametrize("p", [1.0, -0.1, 1.5])
def test_noise_layers_refuse_a_rate_outside_0_1(layer, p):
    X, W, b = torch.ones(2, 3), torch.ones(3, 4), torch.zeros(4)
    args = (X, W, b, p) if layer is variants.dropconnect_linear else (X, p)
    with pytest.raises(ValueError, match="must lie in"):
        layer(*args)


def test_deep_mlp_with_one_layer_is_the_books_mlp():
    from d2lnotes.ch4 import concise

    ours, book = variants.deep_mlp((256,)), concise.mlp()
    assert [type(m) for m in ours] == [type(m) for m in book]
    assert [p.shape for p in ours.parameters()] == [p.shape for p in book.parameters()]
    assert float(ours[1].weight.detach().std()) == pytest.approx(0.01, rel=0.05)
    assert float(ours[1].bias.detach().abs().max()) == 0


def test_dropconnect_mlp_is_deterministic_in_eval_mode():
    torch.manual_seed(0)
    net = variants.DropConnectMLP(784, 10, 32, 32, 0.5, 0.5)
    X = torch.rand(5, 1, 28, 28)
    net.eval()
    torch.testing.assert_close(net(X), net(X))
    net.train()
    assert not torch.equal(net(X), net(X))


# --- the registry: Chapter 4's answers, numbered in three editions, each tested here --------

def test_chapter_4_exercises_name_their_tests_in_this_file():
    chapter_4 = [ex for ex in select() if ex.classic.startswith("4.")]
    assert len(chapter_4) >= 30
    sections = {ex.section for ex in chapter_4}
    assert sections == {f"4.{i}" for i in range(1, 11)}
    for ex in chapter_4:
        path, name = ex.test.split("::")
        assert path == "tests/test_exercises_ch4.py" and callable(globals().get(name)), ex.test
        # The classic English and the Chinese 2nd edition share Chapter 4's numbering.
        assert ex.zh == ex.classic, ex.classic
    # 1.0 merges §4.2 and §4.3's questions into §5.2: no 1.0 number may be used twice.
    numbers_1_0 = [ex.edition_1_0 for ex in chapter_4 if ex.edition_1_0 is not None]
    assert len(numbers_1_0) == len(set(numbers_1_0))
    assert [ex.classic for ex in select("5.1", edition="1.0")] == ["4.1.1", "4.1.2", "4.1.3",
                                                                    "4.1.4"]
