"""Model selection (§4.4) and weight decay (§4.5): scratch and concise pieces side by side.

Both topics are linear regression on synthetic data, trained by the one loop in
``d2lnotes.utils.train``. Each section puts the scratch piece (plain tensors, the
scratch ``SGD``) next to its ``torch.nn`` / ``torch.optim`` twin, starts both from the
same parameters, feeds them the same batches, and reports ``max_param_diff``.
"""

import torch
from torch import nn

from ..ch3.scratch import SGD, linreg, squared_loss
from ..utils.data import load_array, synthetic_data
from ..utils.train import (
    History,
    copy_into_linear,
    evaluate,
    max_param_diff,
    train_side_by_side,
)

# =========================================================================================
# §4.4 Model selection, underfitting and overfitting: polynomial regression
# =========================================================================================

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


# --- scratch ------------------------------------------------------------------------------

class PolynomialRegression:
    """``y_hat = Xw`` with no bias: the constant feature ``x^0 / 0! = 1`` plays its part (§4.4)."""

    def __init__(self, num_inputs, sigma=0.01, device=None):
        self.w = torch.normal(0, sigma, (num_inputs, 1)).to(device).requires_grad_(True)

    def __call__(self, X):
        return X @ self.w

    def parameters(self):
        return [self.w]


# --- concise ------------------------------------------------------------------------------

def polynomial_regression(num_inputs):
    """The book's net, ``nn.Linear(num_inputs, 1, bias=False)`` (§4.4)."""
    return nn.Sequential(nn.Linear(num_inputs, 1, bias=False))


def fit_polynomial(train_features, test_features, train_labels, test_labels, num_epochs=400,
                   lr=0.01, seed=0, quiet=True):
    """Fit ``y_hat = Xw`` both ways on the same batches; return ``(histories, w, diff)``.

    The concise version is the book's: ``nn.MSELoss`` and ``SGD(lr)``. ``nn.MSELoss`` is
    ``mean((y_hat - y)^2)``, twice the scratch ``squared_loss``, so the scratch version
    minimises ``2 * squared_loss`` to make the very same steps with the same ``lr``; both
    histories then hold the figure the book plots. ``w`` maps a version to its fitted
    weights, ``diff`` is ``max_param_diff`` between the two.
    """
    num_inputs = train_features.shape[1]
    # min(10, n): the book's batch size, one batch if there are fewer than 10 examples.
    batch_size = min(10, len(train_labels))
    train_iter = load_array((train_features, train_labels), batch_size)
    # One batch: the mean test loss is the same, and it costs one pass instead of ten.
    test_iter = load_array((test_features, test_labels), len(test_labels), shuffle=False)
    # seed + 2, not seed: the caller drew the data right after manual_seed(seed), and the
    # same stream again would make the initial w a copy of the first features.
    torch.manual_seed(seed + 2)
    net_s = PolynomialRegression(num_inputs, device=train_features.device)
    net_c = polynomial_regression(num_inputs).to(train_features.device)
    with torch.no_grad():
        net_c[0].weight.copy_(net_s.w.T)  # nn.Linear.weight is (out, in) = w^T
    versions = {
        "scratch": (net_s, lambda y_hat, y: 2 * squared_loss(y_hat, y),
                    SGD(net_s.parameters(), lr)),
        "concise": (net_c, nn.MSELoss(), torch.optim.SGD(net_c.parameters(), lr=lr)),
    }
    histories = train_side_by_side(versions, train_iter, test_iter, num_epochs, seed=seed + 1,
                                   quiet=quiet)
    w = {"scratch": net_s.w.detach().reshape(-1), "concise": net_c[0].weight.detach().reshape(-1)}
    diff = max_param_diff([w["scratch"]], [w["concise"]])
    return histories, w, diff


def model_selection(num_epochs=None, seed=0, device=None, quiet=True):
    """Fit the third-order (normal), linear (underfit) and 20-feature (overfit) models (§4.4).

    ``num_epochs`` overrides the book's 400 / 1500 epochs. Returns ``{name: {"histories",
    "w", "max_param_diff", "num_features", "num_epochs"}}`` and the true weights.
    """
    torch.manual_seed(seed)
    features, labels, true_w = polynomial_data()
    features, labels = features.to(device), labels.to(device)
    n_train = 100
    fits = {}
    for name, (num_features, book_epochs) in POLY_FITS.items():
        epochs = num_epochs or book_epochs
        histories, w, diff = fit_polynomial(
            features[:n_train, :num_features], features[n_train:, :num_features],
            labels[:n_train], labels[n_train:], num_epochs=epochs, seed=seed, quiet=quiet)
        fits[name] = {"histories": histories, "w": w, "max_param_diff": diff,
                      "num_features": num_features, "num_epochs": epochs}
    return fits, true_w


def _fmt_w(w, n=None):
    return "[" + ", ".join(f"{float(v):6.3f}" for v in list(w)[:n]) + "]"


def run_model_selection(args, device, say):
    """CLI topic ``model-selection``: the three polynomial fits, their weights and curves."""
    from ..utils import plot

    fits, true_w = model_selection(args.epochs, args.seed, device, quiet=args.quiet)
    say("§4.4 polynomial regression, features x^i/i! (i < 20), 100 train / 100 test, noise 0.1, "
        "batch 10, lr 0.01 (concise: nn.MSELoss + optim.SGD; scratch: 2*squared_loss + SGD)")
    say(f"{'fit':>9} {'features':>8} {'epochs':>6} {'train loss':>11} {'test loss':>11} "
        f"{'max_param_diff':>14}  fitted w[:4] (concise)")
    results = {}
    for name, fit in fits.items():
        h = fit["histories"]["concise"]
        w = fit["w"]["concise"].cpu()
        say(f"{name:>9} {fit['num_features']:8d} {fit['num_epochs']:6d} {h.train_loss[-1]:11.5f} "
            f"{h.test_loss[-1]:11.5f} {fit['max_param_diff']:14.3g}  {_fmt_w(w, 4)}")
        results[name] = {"num_features": fit["num_features"], "num_epochs": fit["num_epochs"],
                         "train_loss": h.train_loss[-1], "test_loss": h.test_loss[-1],
                         "w": w.tolist(), "w_scratch": fit["w"]["scratch"].cpu().tolist(),
                         "max_param_diff": fit["max_param_diff"]}
    say(f"{'true':>9} {'':8} {'':6} {'':11} {'':11} {'':14}  {_fmt_w(true_w, 4)}"
        "   (book's cubic fit: [5.01, 1.24, -3.42, 5.50])")
    results["true_w"] = true_w.tolist()
    if not args.no_plots:
        fig, axes = plot.new_figure(1, 3, figsize=(13, 3.8))
        for ax, (name, fit) in zip(axes.flat, fits.items()):
            h = fit["histories"]["concise"]
            epochs = range(1, len(h.train_loss) + 1)
            ax.plot(epochs, h.train_loss, label="train", color="tab:blue")
            ax.plot(epochs, h.test_loss, "--", label="test", color="tab:orange")
            ax.set(yscale="log", xlabel="epoch", ylabel="loss (MSE)",
                   title=f"{name}: {fit['num_features']} features")
            ax.grid(True, alpha=0.3)
            ax.legend()
        fig.suptitle("§4.4 polynomial regression: train and test loss (log scale)")
        path = plot.save(fig, args.out / "model_selection.png")
        say(f"plot: {path}")
    test = {name: results[name]["test_loss"] for name in fits}
    summary = (f"model selection: cubic w = {_fmt_w(results['normal']['w'])}, test loss "
               f"normal {test['normal']:.4f} / underfit {test['underfit']:.2f} / overfit "
               f"{test['overfit']:.4f}")
    return results, summary


# =========================================================================================
# §4.5 Weight decay: high-dimensional linear regression
# =========================================================================================

WD_NUM_INPUTS, WD_N_TRAIN, WD_N_TEST = 200, 20, 100
WD_TRUE_W, WD_TRUE_B = 0.01, 0.05


# --- scratch: the penalty is part of the loss ----------------------------------------------

def l2_penalty(w):
    """The L2 penalty ``||w||^2 / 2`` (§4.5); the 1/2 makes its gradient simply ``w``."""
    return torch.sum(w.pow(2)) / 2


def penalized_loss(w, lambd):
    """Per-example ``squared_loss + lambd * l2_penalty(w)``; its mean is the §4.5 objective.

    The loop takes the mean over the batch, so the minimised objective is
    ``mean(l) + lambd * ||w||^2 / 2``, whose gradient in ``w`` adds ``lambd * w``.
    """
    def loss(y_hat, y):
        return squared_loss(y_hat, y) + lambd * l2_penalty(w)
    return loss


class LinearRegressionNormal:
    """``y_hat = Xw + b`` with ``w ~ N(0, 1)``, ``b = 0``, the book's ``init_params`` (§4.5)."""

    def __init__(self, num_inputs, device=None):
        self.w = torch.normal(0, 1, (num_inputs, 1)).to(device).requires_grad_(True)
        self.b = torch.zeros(1, device=device, requires_grad=True)

    def __call__(self, X):
        return linreg(X, self.w, self.b)

    def parameters(self):
        return [self.w, self.b]


# --- concise: the penalty is part of the optimizer ------------------------------------------

def weight_decay_sgd(linear, lr, weight_decay):
    """``optim.SGD`` with ``weight_decay`` on the weight only, not the bias (§4.5).

    SGD's ``weight_decay=wd`` adds ``wd * w`` to the gradient, which is the gradient of a
    ``wd * ||w||^2 / 2`` penalty: the same thing as ``l2_penalty`` without touching the loss.
    """
    return torch.optim.SGD([{"params": linear.weight, "weight_decay": weight_decay},
                            {"params": linear.bias}], lr=lr)


def weight_decay_data(device=None):
    """Draw the §4.5 data: ``y = 0.01 * sum(x) + 0.05 + eps``, 200 inputs, 20 train / 100 test."""
    true_w = torch.full((WD_NUM_INPUTS,), WD_TRUE_W)
    train_data = synthetic_data(true_w, WD_TRUE_B, WD_N_TRAIN)
    test_data = synthetic_data(true_w, WD_TRUE_B, WD_N_TEST)
    return tuple(t.to(device) for t in train_data), tuple(t.to(device) for t in test_data)


def train_weight_decay(lambd, train_data, test_data, num_epochs=100, lr=0.003, batch_size=5,
                       seed=0, quiet=True):
    """Train the §4.5 model with penalty ``lambd`` both ways on the same batches.

    Scratch: ``squared_loss + lambd * l2_penalty(w)`` and the scratch ``SGD(lr)``.
    Concise: ``nn.MSELoss`` and ``weight_decay_sgd(lr / 2, 2 * lambd)``. Why those factors:
    ``nn.MSELoss`` is ``2 * squared_loss``, so the concise objective
    ``MSE + 2 lambd ||w||^2 / 2 = 2 (squared_loss + lambd ||w||^2 / 2)`` is exactly twice
    the scratch one, and half the learning rate makes every step identical.

    Returns ``(curves, nets, diff)``: ``curves[name]`` is a History of the *unpenalised*
    squared loss (as the book plots it) on the train and test sets after every epoch.
    """
    train_iter = load_array(train_data, batch_size)
    # Whole-set batches for evaluation: the same mean, one pass.
    train_eval = load_array(train_data, len(train_data[0]), shuffle=False)
    test_iter = load_array(test_data, len(test_data[0]), shuffle=False)
    # seed + 2, not seed: the data were drawn right after manual_seed(seed); reusing that
    # stream would make w ~ N(0, 1) a copy of the first training example, which gradient
    # descent can then cancel (||w|| ends near 3.6 instead of the book's 13).
    torch.manual_seed(seed + 2)
    device = train_data[0].device
    net_s = LinearRegressionNormal(WD_NUM_INPUTS, device=device)
    net_c = nn.Sequential(nn.Linear(WD_NUM_INPUTS, 1)).to(device)
    copy_into_linear(net_c[0], net_s.w.detach(), net_s.b.detach())
    versions = {
        # The penalty lives in the scratch loss only; the concise one is in the optimizer.
        "scratch": (net_s, penalized_loss(net_s.w, lambd), SGD(net_s.parameters(), lr)),
        "concise": (net_c, nn.MSELoss(), weight_decay_sgd(net_c[0], lr / 2, 2 * lambd)),
    }
    nets = {"scratch": net_s, "concise": net_c}
    curves = {name: History() for name in versions}

    def record(name, history):
        curves[name].train_loss.append(evaluate(nets[name], train_eval, squared_loss)[0])
        curves[name].test_loss.append(evaluate(nets[name], test_iter, squared_loss)[0])

    train_side_by_side(versions, train_iter, None, num_epochs, seed=seed + 1, quiet=quiet,
                       callback=record)
    diff = max_param_diff(net_s.parameters(), [net_c[0].weight.T, net_c[0].bias])
    return curves, nets, diff


def weight_decay(lambdas=(0, 3), num_epochs=None, seed=0, device=None, quiet=True):
    """Run §4.5 for each ``lambd``; return ``{lambd: {"curves", "w_norm", "max_param_diff"}}``."""
    torch.manual_seed(seed)
    train_data, test_data = weight_decay_data(device)
    runs = {}
    for lambd in lambdas:
        curves, nets, diff = train_weight_decay(lambd, train_data, test_data,
                                                num_epochs=num_epochs or 100, seed=seed,
                                                quiet=quiet)
        runs[lambd] = {"curves": curves, "max_param_diff": diff,
                       "w_norm": {"scratch": float(torch.norm(nets["scratch"].w.detach())),
                                  "concise": float(torch.norm(nets["concise"][0].weight.detach()))}}
    return runs


def run_weight_decay(args, device, say):
    """CLI topic ``weight-decay``: lambda 0 and 3, scratch penalty vs optimizer weight_decay."""
    from ..utils import plot

    runs = weight_decay(num_epochs=args.epochs, seed=args.seed, device=device, quiet=args.quiet)
    num_epochs = args.epochs or 100
    say(f"§4.5 weight decay: d = 200, 20 train / 100 test, batch 5, lr 0.003, {num_epochs} epochs; "
        "scratch: squared_loss + lambd * l2_penalty(w); concise: nn.MSELoss + "
        "SGD(weight_decay=2 lambd on the weight, lr/2)")
    say(f"{'lambda':>6} {'||w|| scratch':>13} {'||w|| concise':>13} {'train loss':>11} "
        f"{'test loss':>10} {'max_param_diff':>14}")
    results = {}
    for lambd, run in runs.items():
        c = run["curves"]["scratch"]
        say(f"{lambd:6g} {run['w_norm']['scratch']:13.4f} {run['w_norm']['concise']:13.4f} "
            f"{c.train_loss[-1]:11.5f} {c.test_loss[-1]:10.5f} {run['max_param_diff']:14.3g}")
        results[f"lambda_{lambd:g}"] = {
            "lambd": lambd, "w_norm": run["w_norm"], "max_param_diff": run["max_param_diff"],
            "train_loss": c.train_loss[-1], "test_loss": c.test_loss[-1]}
    say("(book: ||w|| about 13 without decay, about 0.36 with lambda 3)")
    if not args.no_plots:
        fig, axes = plot.new_figure(1, len(runs), figsize=(5.5 * len(runs), 3.8))
        for ax, (lambd, run) in zip(axes.flat, runs.items()):
            for name, style in (("scratch", dict(linewidth=5, alpha=0.35)),
                                ("concise", dict(linestyle="--", linewidth=1.6))):
                h = run["curves"][name]
                epochs = range(1, len(h.train_loss) + 1)
                ax.plot(epochs, h.train_loss, color="tab:blue", label=f"{name} train", **style)
                ax.plot(epochs, h.test_loss, color="tab:orange", label=f"{name} test", **style)
            ax.set(yscale="log", xlabel="epoch", ylabel="squared loss",
                   title=f"lambda = {lambd}: ||w|| = {run['w_norm']['scratch']:.3g}")
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=8)
        fig.suptitle("§4.5 weight decay: scratch l2_penalty (band) vs optim weight_decay (dashed)")
        path = plot.save(fig, args.out / "weight_decay.png")
        say(f"plot: {path}")
    r0, r3 = results["lambda_0"], results["lambda_3"]
    worst = max(r["max_param_diff"] for r in results.values())
    summary = (f"weight decay: ||w|| = {r0['w_norm']['scratch']:.2f} (lambda 0), "
               f"{r3['w_norm']['scratch']:.3f} (lambda 3), test loss {r0['test_loss']:.3g} -> "
               f"{r3['test_loss']:.3g}, scratch vs concise max_param_diff {worst:.2g}")
    return results, summary


__all__ = [
    "MAX_DEGREE", "POLY_FITS", "POLY_TRUE_W", "LinearRegressionNormal", "PolynomialRegression",
    "fit_polynomial", "l2_penalty", "model_selection", "penalized_loss", "polynomial_data",
    "polynomial_regression", "run_model_selection", "run_weight_decay", "train_weight_decay",
    "weight_decay", "weight_decay_data", "weight_decay_sgd",
]
