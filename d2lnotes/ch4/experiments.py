"""Chapter 4's experiments, in the book's order: each takes keyword arguments and returns data.

Nothing here prints or plots; ``python -m d2lnotes.ch4`` (``report.py``) shows the
results. Every comparison builds the scratch model and its concise twin, names their
parameters in one layout (``nn.Linear.weight`` is the transpose of the scratch ``W``) and
hands both to ``d2lnotes.utils.train.compare_twins``, which copies the scratch parameters
in, trains both on the same batches and returns a ``Comparison``; the seed offsets are
documented in ``utils/train.py``.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..ch3 import concise as concise3
from ..ch3 import scratch as scratch3
from ..utils.data import load_array, synthetic_data
from ..utils.train import (
    INIT_AFTER_DATA_SEED_OFFSET,
    Comparison,
    History,
    Twin,
    compare_twins,
    evaluate,
    fashion_mnist_or,
)
from . import concise, scratch

__all__ = [
    "activation_gaps", "compare_mlp", "polynomial_data", "fit_polynomial", "model_selection",
    "PolynomialFits", "weight_decay_data", "train_weight_decay", "weight_decay",
    "dropout_statistics", "compare_dropout", "check_hand_gradients", "compare_hand_backprop",
    "matrix_product", "activation_variance", "init_statistics",
]

# --- §4.1 activation functions -----------------------------------------------------------

ACTIVATIONS = ("relu", "sigmoid", "tanh")


def activation_gaps():
    """Each scratch activation against torch, and its closed-form derivative against autograd.

    float32 on ``[-100, 100]`` (0 and ±100 included). Returns ``{name: {"max_value_diff",
    "max_grad_diff", "grad_at_0", "at_minus_100", "at_100"}}`` (§4.1).
    """
    x = torch.cat([torch.linspace(-100, 100, 2001), torch.linspace(-8, 8, 1601),
                   torch.tensor([0.0, -1e-8, 1e-8])])
    results = {}
    for name in ACTIVATIONS:
        f, df = getattr(scratch, name), getattr(scratch, name + "_grad")
        twin = concise.activations[name]
        xg = x.clone().requires_grad_(True)
        twin(xg).sum().backward()
        at = f(torch.tensor([0.0, -100.0, 100.0]))
        results[name] = {"max_value_diff": float((f(x) - twin(x)).abs().max()),
                         "max_grad_diff": float((df(x) - xg.grad).abs().max()),
                         "grad_at_0": float(df(torch.tensor(0.0))),
                         "at_minus_100": float(at[1]), "at_100": float(at[2])}
    return results


# --- §4.2-4.3 the MLP --------------------------------------------------------------------

def compare_mlp(batch_size=None, lr=0.1, num_epochs=10, seed=0, impl="both", data=None,
                device=None, quiet=True, callback=None) -> Comparison:
    """Train the one-hidden-layer MLP on Fashion-MNIST (§4.2-4.3) both ways; return a Comparison.

    ``extra["param_diff_per_epoch"]`` is the parameter gap after each epoch. It starts at
    float32 rounding (~2e-7 after one epoch), then jumps (to ~6e-4 in epoch 2) when
    rounding puts a pre-activation on the other side of ReLU's kink in one version
    only. Run in float64 (``torch.set_default_dtype``) the two stay ~1e-16 apart.

    ``data`` is ``(train_iter, test_iter)``; by default it is loaded with ``batch_size``
    (book: 256); given both, their batch sizes must agree.
    """
    train_iter, test_iter = fashion_mnist_or(data, batch_size, "compare_mlp", device)
    torch.manual_seed(seed)
    net_s = scratch.MLP(784, 10, 256, device=device)
    net_c = concise.mlp(784, 10, 256).to(device)
    return compare_twins(
        Twin(net_s, scratch.softmax_cross_entropy, scratch.SGD(net_s.parameters(), lr)),
        Twin(net_c, concise.mlp_loss(), torch.optim.SGD(net_c.parameters(), lr=lr),
             params=[net_c[1].weight.T, net_c[1].bias, net_c[3].weight.T, net_c[3].bias]),
        train_iter, test_iter, num_epochs, seed=seed, impl=impl, quiet=quiet, callback=callback)


# --- §4.4 model selection: polynomial regression -----------------------------------------

MAX_DEGREE = 20
POLY_TRUE_W = (5.0, 1.2, -3.4, 5.6)  # the rest of the 20 coefficients are 0
# name -> (number of features, the book's epochs)
POLY_FITS = {"normal": (4, 400), "underfit": (2, 400), "overfit": (MAX_DEGREE, 1500)}


def polynomial_data(n_train=100, n_test=100, max_degree=MAX_DEGREE, true_w=POLY_TRUE_W,
                    noise=0.1):
    """Draw ``y = sum_i w_i x^i / i! + eps`` with ``x ~ N(0, 1)``, ``eps ~ N(0, noise^2)`` (§4.4).

    Returns ``(poly_features, labels, w)``: features ``(n, max_degree)`` whose column ``i``
    is ``x^i / i!`` (dividing by ``i!`` keeps high powers from dwarfing the gradient),
    labels ``(n, 1)`` and the full true weight vector. Rows ``[:n_train]`` are the training set.
    """
    w = torch.zeros(max_degree, dtype=torch.float64)
    w[:len(true_w)] = torch.tensor(true_w, dtype=torch.float64)
    x = torch.randn(n_train + n_test, 1, dtype=torch.float64)
    i = torch.arange(max_degree, dtype=torch.float64)
    poly_features = x ** i / torch.exp(torch.lgamma(i + 1))  # lgamma(i + 1) = log(i!)
    labels = poly_features @ w
    labels += torch.normal(0.0, noise, labels.shape, dtype=torch.float64)
    return poly_features.float(), labels.float().reshape(-1, 1), w.float()


def fit_polynomial(train_features, test_features, train_labels, test_labels, num_epochs=400,
                   lr=0.02, seed=0, quiet=True) -> Comparison:
    """Fit ``y_hat = Xw`` both ways on the same batches; return a Comparison.

    ``lr`` is the scratch one, on ``squared_loss``; the concise version is the book's,
    ``nn.MSELoss`` with ``lr / 2`` (the package's one convention for the missing 1/2, see
    ``ch3.concise``): the default 0.02 is the book's 0.01 on ``nn.MSELoss``. The concise
    history holds the figure the book plots. ``extra["w"]`` maps a version to its fitted
    weights.
    """
    num_inputs = train_features.shape[1]
    # min(10, n): the book's batch size, one batch if there are fewer than 10 examples.
    train_iter = load_array((train_features, train_labels), min(10, len(train_labels)))
    # One batch: the mean test loss is the same, and it costs one pass instead of ten.
    test_iter = load_array((test_features, test_labels), len(test_labels), shuffle=False)
    torch.manual_seed(seed + INIT_AFTER_DATA_SEED_OFFSET)
    net_s = scratch.PolynomialRegression(num_inputs, device=train_features.device)
    net_c = concise.polynomial_regression(num_inputs).to(train_features.device)
    cmp = compare_twins(
        Twin(net_s, scratch3.squared_loss, scratch.SGD(net_s.parameters(), lr)),
        Twin(net_c, nn.MSELoss(), torch.optim.SGD(net_c.parameters(), lr=lr / 2),
             params=[net_c[0].weight.T]),
        train_iter, test_iter, num_epochs, seed=seed, quiet=quiet)
    cmp.extra["w"] = {"scratch": net_s.w.detach().reshape(-1),
                      "concise": net_c[0].weight.detach().reshape(-1)}
    return cmp


@dataclass
class PolynomialFits:
    """§4.4's three fits (``"normal"``, ``"underfit"``, ``"overfit"``) and the true weights."""

    fits: dict
    true_w: torch.Tensor


def model_selection(num_epochs=None, seed=0, device=None, quiet=True) -> PolynomialFits:
    """Fit the third-order (normal), linear (underfit) and 20-feature (overfit) models (§4.4).

    ``num_epochs`` overrides the book's 400 / 1500 epochs. Each fit is a Comparison whose
    ``extra`` also holds ``num_features`` and ``num_epochs``.
    """
    torch.manual_seed(seed)
    features, labels, true_w = polynomial_data()
    features, labels = features.to(device), labels.to(device)
    n_train = 100
    fits = {}
    for name, (num_features, book_epochs) in POLY_FITS.items():
        epochs = num_epochs or book_epochs
        fits[name] = fit_polynomial(
            features[:n_train, :num_features], features[n_train:, :num_features],
            labels[:n_train], labels[n_train:], num_epochs=epochs, seed=seed, quiet=quiet)
        fits[name].extra.update(num_features=num_features, num_epochs=epochs)
    return PolynomialFits(fits, true_w)


# --- §4.5 weight decay ---------------------------------------------------------------------

WD_NUM_INPUTS, WD_N_TRAIN, WD_N_TEST = 200, 20, 100
WD_TRUE_W, WD_TRUE_B = 0.01, 0.05


def weight_decay_data(device=None):
    """Draw the §4.5 data: ``y = 0.01 * sum(x) + 0.05 + eps``, 200 inputs, 20 train / 100 test."""
    true_w = torch.full((WD_NUM_INPUTS,), WD_TRUE_W)
    train_data = synthetic_data(true_w, WD_TRUE_B, WD_N_TRAIN)
    test_data = synthetic_data(true_w, WD_TRUE_B, WD_N_TEST)
    return tuple(t.to(device) for t in train_data), tuple(t.to(device) for t in test_data)


def train_weight_decay(lambd, train_data, test_data, num_epochs=100, lr=0.003, batch_size=5,
                       seed=0, quiet=True) -> Comparison:
    """Train the §4.5 model with penalty ``lambd`` both ways on the same batches.

    Scratch: ``squared_loss + lambd * l2_penalty(w)`` and the scratch ``SGD(lr)``.
    Concise: ``nn.MSELoss`` and ``weight_decay_sgd(lr / 2, 2 * lambd)``: the concise
    objective ``MSE + 2 lambd ||w||^2 / 2`` is exactly twice the scratch one (see
    ``ch3.concise``), and half the learning rate makes every step identical.

    The histories hold the *unpenalised* squared loss on the whole train and test sets
    after every epoch, the curves the book plots; ``extra["w_norm"]`` is ``||w||``.
    """
    train_iter = load_array(train_data, batch_size)
    # Whole-set batches for evaluation: the same mean, one pass.
    train_eval = load_array(train_data, len(train_data[0]), shuffle=False)
    test_iter = load_array(test_data, len(test_data[0]), shuffle=False)
    # Drawing w ~ N(0, 1) from the data's stream would make it a copy of the first
    # training example, which gradient descent can then cancel (||w|| near 3.6, not 13).
    torch.manual_seed(seed + INIT_AFTER_DATA_SEED_OFFSET)
    device = train_data[0].device
    net_s = scratch3.LinearRegression(WD_NUM_INPUTS, sigma=1.0, device=device)
    net_c = concise3.linear_regression(WD_NUM_INPUTS).to(device)
    nets = {"scratch": net_s, "concise": net_c}
    curves = {name: History() for name in nets}

    def record(name, _history):
        curves[name].train_loss.append(evaluate(nets[name], train_eval, scratch3.squared_loss)[0])
        curves[name].test_loss.append(evaluate(nets[name], test_iter, scratch3.squared_loss)[0])

    cmp = compare_twins(
        # The penalty lives in the scratch loss only; the concise one is in the optimizer.
        Twin(net_s, scratch.penalized_loss(net_s.w, lambd), scratch.SGD(net_s.parameters(), lr)),
        Twin(net_c, nn.MSELoss(), concise.weight_decay_sgd(net_c, lr / 2, 2 * lambd),
             params=[net_c[0].weight.T, net_c[0].bias]),
        train_iter, None, num_epochs, seed=seed, quiet=quiet, callback=record)
    cmp.histories = curves
    cmp.extra["w_norm"] = {"scratch": float(torch.norm(net_s.w.detach())),
                           "concise": float(torch.norm(net_c[0].weight.detach()))}
    return cmp


def weight_decay(lambdas=(0, 3), num_epochs=None, seed=0, device=None, quiet=True):
    """Run §4.5 for each ``lambd`` on the same data; return ``{lambd: Comparison}``.

    Draw a sweep's test loss and ``||w||`` against lambda in one line:
    ``plot.plot_sweep(weight_decay(lambdas=(0, 1, 3, 10, 30)), "lambda")``.
    """
    torch.manual_seed(seed)
    train_data, test_data = weight_decay_data(device)
    return {lambd: train_weight_decay(lambd, train_data, test_data,
                                      num_epochs=num_epochs or 100, seed=seed, quiet=quiet)
            for lambd in lambdas}


# --- §4.6 dropout ----------------------------------------------------------------------------

def dropout_statistics(ps=(0.0, 0.2, 0.5, 0.8, 1.0), seed=0):
    """Fraction zeroed and mean of a 1000 x 1000 tensor of ones after dropout p (§4.6).

    Returns ``{str(p): {"zeros_scratch", "zeros_concise", "mean_scratch", "mean_concise"}}``;
    the fractions should be ``p`` and the means 1.
    """
    torch.manual_seed(seed)
    X = torch.ones(1000, 1000)
    stats = {}
    for p in ps:
        out_s, out_c = scratch.dropout_layer(X, p), F.dropout(X, p, training=True)
        stats[str(p)] = {"zeros_scratch": float((out_s == 0).float().mean()),
                         "zeros_concise": float((out_c == 0).float().mean()),
                         "mean_scratch": float(out_s.mean()), "mean_concise": float(out_c.mean())}
    return stats


def compare_dropout(batch_size=None, lr=0.5, num_epochs=10, dropout1=0.2, dropout2=0.5, seed=0,
                    impl="both", data=None, device=None, quiet=True, callback=None) -> Comparison:
    """Train the 784-256-256-10 dropout MLP (§4.6) both ways; return a Comparison.

    Same start and same batches, but the scratch masks come from ``torch.rand`` and
    ``nn.Dropout``'s from its own kernel, so the runs part after the first batch:
    ``max_param_diff`` is ``None`` and the two are compared by accuracy. Draw a sweep's
    test accuracy against the rate in one line: ``plot.plot_sweep({p: compare_dropout(
    dropout1=p, dropout2=p) for p in (0, 0.2, 0.5, 0.8)}, "dropout")``.
    """
    train_iter, test_iter = fashion_mnist_or(data, batch_size, "compare_dropout", device)
    torch.manual_seed(seed)
    net_s = scratch.DropoutMLP(784, 10, 256, 256, dropout1, dropout2, device=device)
    net_c = concise.dropout_mlp(784, 10, 256, 256, dropout1, dropout2).to(device)
    linears = (net_c[1], net_c[4], net_c[7])
    return compare_twins(
        Twin(net_s, scratch.softmax_cross_entropy, scratch.SGD(net_s.parameters(), lr)),
        Twin(net_c, concise.mlp_loss(), torch.optim.SGD(net_c.parameters(), lr=lr),
             params=[p for layer in linears for p in (layer.weight.T, layer.bias)]),
        train_iter, test_iter, num_epochs, seed=seed, impl=impl, gap=False, quiet=quiet,
        callback=callback)


# --- §4.7 backpropagation by hand ------------------------------------------------------------

def check_hand_gradients(X, y, seed=0):
    """The MLP's hand gradients against autograd in float64, and gradcheck of the Functions.

    Returns ``(gaps, gradcheck)``: ``gaps`` maps ``W1 b1 W2 b2 loss`` to the largest
    ``|hand - autograd|`` on the batch ``(X, y)``; ``gradcheck`` is whether the composed
    hand-written Functions pass ``torch.autograd.gradcheck`` (finite differences) (§4.7).
    """
    torch.manual_seed(seed)
    # sigma 0.1, not 0.01, so that the logits and the ReLU pattern are far from trivial.
    net = scratch.MLP(784, 10, 256, sigma=0.1)
    params = [p.detach().double().requires_grad_(True) for p in net.parameters()]
    X = X.reshape(len(X), -1).double()
    W1, b1, W2, b2 = params
    loss_hand, grads_hand = scratch.mlp_gradients(X, y, *params)
    loss_auto = F.cross_entropy(F.relu(X @ W1 + b1) @ W2 + b2, y)
    grads_auto = torch.autograd.grad(loss_auto, params)
    gaps = {name: float((g - a).abs().max()) for name, g, a in
            zip(("W1", "b1", "W2", "b2"), grads_hand, grads_auto)}
    gaps["loss"] = float((loss_hand - loss_auto.detach()).abs())
    # Finite differences on a small net (gradcheck perturbs every input in turn).
    small = [torch.randn(*shape, dtype=torch.float64).requires_grad_(True)
             for shape in ((6, 12), (12, 9), (9,), (9, 4), (4,))]
    labels = torch.tensor([0, 3, 1, 2, 3, 0])

    def composed(X, W1, b1, W2, b2):
        H = scratch.ReLU.apply(scratch.Linear.apply(X, W1, b1))
        return scratch.hand_softmax_cross_entropy(scratch.Linear.apply(H, W2, b2), labels)

    return gaps, bool(torch.autograd.gradcheck(composed, small, eps=1e-6, atol=1e-7))


def compare_hand_backprop(batch_size=None, lr=0.1, num_epochs=10, seed=0, data=None, device=None,
                          quiet=True, callback=None) -> Comparison:
    """Train the MLP with autograd and with hand-derived gradients (§4.7); return a Comparison.

    Both start from the same parameters and see the same batches; ``max_param_diff`` is
    the gap at the end, ``extra["param_diff_per_epoch"]`` the gap after each epoch.
    """
    train_iter, test_iter = fashion_mnist_or(data, batch_size, "compare_hand_backprop", device)
    torch.manual_seed(seed)
    net_a = scratch.MLP(784, 10, 256, device=device)
    net_h = scratch.HandMLP(784, 10, 256, device=device)
    return compare_twins(
        Twin(net_a, scratch.softmax_cross_entropy, scratch.SGD(net_a.parameters(), lr)),
        Twin(net_h, scratch.hand_softmax_cross_entropy, scratch.SGD(net_h.parameters(), lr)),
        train_iter, test_iter, num_epochs, seed=seed, names=("autograd", "by hand"),
        quiet=quiet, callback=callback)


# --- §4.8 numerical stability and initialisation ---------------------------------------------

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


# The three initialisations of §4.8.2, as init(n_in, n_out) -> weight (n_out, n_in).
INITS = {"N(0, 1)": lambda a, b: torch.randn(b, a),
         "N(0, 0.01)": lambda a, b: torch.randn(b, a) * 0.01,
         "Xavier": scratch.xavier_normal}


def init_statistics(seed=0, n_in=784, n_out=256):
    """§4.8's numbers: the sigmoid's vanishing gradient, an exploding product, Xavier's variance.

    Returns ``{"sigmoid_grad", "matrix_product_max_abs", "xavier", "activation_variance"}``:
    the sigmoid's gradient at 0, 4 and 8; the largest entry of 100 random 4 x 4 products;
    the variance of scratch and ``nn.init`` Xavier weights against ``2 / (n_in + n_out)``;
    and the activation variance through 10 linear layers for each of :data:`INITS`.
    """
    grad_at = {str(v): float(scratch.sigmoid_grad(torch.tensor(v))) for v in (0.0, 4.0, 8.0)}
    largest = float(matrix_product(100, 4, seed=seed).abs().max())
    theory = 2 / (n_in + n_out)
    torch.manual_seed(seed)
    xavier = {}
    for kind in ("uniform", "normal"):
        W_s = getattr(scratch, f"xavier_{kind}")(n_in, n_out)
        W_c = getattr(nn.init, f"xavier_{kind}_")(torch.empty(n_out, n_in))
        xavier[kind] = {"var_scratch": float(W_s.var()), "var_concise": float(W_c.var()),
                        "theory": theory, "shape_matches": W_s.shape == W_c.shape,
                        "max_abs_scratch": float(W_s.abs().max()),
                        "max_abs_concise": float(W_c.abs().max())}
    variances = {k: activation_variance(f, 10, 256, seed=seed) for k, f in INITS.items()}
    return {"sigmoid_grad": grad_at, "matrix_product_max_abs": largest, "xavier": xavier,
            "activation_variance": variances}
