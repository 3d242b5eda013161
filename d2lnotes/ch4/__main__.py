"""``python -m d2lnotes.ch4 [topic ...]``: Chapter 4's topics, scratch and concise side by side.

Each topic is a function ``run_<topic>(args, device, say) -> (results, summary)``: it
prints its tables through ``say`` (a no-op under ``--quiet``), writes its PNGs to
``args.out`` unless ``args.no_plots``, and returns a JSON-ready dict plus a one-line
summary. ``main`` times each topic and prints the summaries as a table at the end.
"""

import difflib
import importlib
import sys
import time

from ..utils import cli
from ..utils.errors import UsageError
from ..utils.io import write_json

# The book's epochs per topic; --epochs N replaces all of them (for quick runs).
BOOK_EPOCHS = {"mlp": 10, "backprop": 10, "dropout": 10}

DESCRIPTION = """\
Chapter 4 of Dive into Deep Learning, from scratch and with torch.nn, side by side.
Topics (default: all, in this order):

  activations      §4.1 ReLU, sigmoid, tanh and their closed-form derivatives,
                   checked against torch and autograd; plot of each
  mlp              §4.2-4.3 MLP 784-256-10 on Fashion-MNIST, batch 256, lr 0.1,
                   10 epochs; same start, same batches, max_param_diff
  backprop         §4.7 the MLP's gradients derived by hand (no autograd) against
                   autograd in float64 and finite differences, then trained with them
  model-selection  §4.4 polynomial regression: a cubic fit, a linear one that
                   underfits and a 20-feature one, 400 / 1500 epochs
  weight-decay     §4.5 L2 penalty in the loss against the optimizer's weight_decay,
                   d = 200, 20 examples, lambda 0 and 3
  dropout          §4.6 MLP 784-256-256-10 with dropout 0.2 / 0.5, lr 0.5, 10 epochs
  init             §4.8 vanishing sigmoid gradients, exploding matrix products,
                   Xavier init against nn.init, activation variance over 10 layers
  kaggle           §4.10 house prices: SHA-1-checked CSVs, preprocessing, 5-fold
                   log-RMSE of a linear model, submission.csv in --out
  best             (not part of all) the best Fashion-MNIST accuracy Chapters 3-4
                   allow: MLP, dropout, Xavier init, lr chosen on a validation split

--epochs N replaces every topic's epoch count (the book's is used otherwise).
"""


def _fashion_mnist(args, device, cache={}):  # noqa: B006 -- the cache is the point
    """Fashion-MNIST at batch 256, loaded once per process and shared by the topics."""
    from ..utils.data import load_fashion_mnist

    key = (str(args.data_dir), str(device))
    if key not in cache:
        cache[key] = load_fashion_mnist(256, root=args.data_dir, device=device)
    return cache[key]


def _epochs(args, topic):
    return args.epochs or BOOK_EPOCHS[topic]


def _gap_lines(say, cmp):
    gaps = cmp.extra["param_diff_per_epoch"]
    say("max_param_diff after each epoch: " + ", ".join(f"{g:.2g}" for g in gaps))
    say("(one epoch leaves float32 rounding, ~1e-7; the jump after it comes when rounding puts a "
        "pre-activation on the other side of ReLU's kink in one run only. In float64 the two "
        "stay 1e-16 apart: see tests/test_ch4.py)")


def _saved(say, args, *names):
    say("plots: " + ", ".join(str(args.out / n) for n in names))


# --- topics ------------------------------------------------------------------------------


def run_activations(args, device, say):
    """§4.1: each scratch activation and derivative against torch / autograd, and a plot."""
    import torch

    from ..utils import plot
    from . import concise, scratch

    say("§4.1 activation functions: scratch against torch, closed-form derivative against "
        "autograd, float32 on x in [-100, 100] (0 and ±100 included)")
    x = torch.cat([torch.linspace(-100, 100, 2001), torch.linspace(-8, 8, 1601),
                   torch.tensor([0.0, -1e-8, 1e-8])])
    results = {}
    say(f"{'function':>8}  {'max |f - torch|':>16}  {'max |df - autograd|':>20}  "
        f"{'df(0)':>6}  {'f(-100)':>10}  {'f(100)':>7}")
    for name in ("relu", "sigmoid", "tanh"):
        f, df = getattr(scratch, name), getattr(scratch, name + "_grad")
        xg = x.clone().requires_grad_(True)
        concise.activations[name](xg).sum().backward()
        value_gap = float((f(x) - concise.activations[name](x)).abs().max())
        grad_gap = float((df(x) - xg.grad).abs().max())
        at = f(torch.tensor([0.0, -100.0, 100.0]))
        results[name] = {"max_value_diff": value_gap, "max_grad_diff": grad_gap,
                         "grad_at_0": float(df(torch.tensor(0.0))),
                         "at_minus_100": float(at[1]), "at_100": float(at[2])}
        say(f"{name:>8}  {value_gap:16.3g}  {grad_gap:20.3g}  {results[name]['grad_at_0']:6.3g}"
            f"  {float(at[1]):10.3g}  {float(at[2]):7.3g}")
    if not args.no_plots:
        fig, axes = plot.new_figure(1, 3, figsize=(11, 3.2))
        xs = torch.linspace(-6, 6, 241)
        for ax, name in zip(axes.flat, ("relu", "sigmoid", "tanh")):
            ax.plot(xs, getattr(scratch, name)(xs), label=f"{name}(x)")
            ax.plot(xs, getattr(scratch, name + "_grad")(xs), "--", label=f"{name}'(x)")
            ax.set(xlabel="x", title=name)
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=8)
        fig.suptitle("Activation functions and their derivatives (§4.1)")
        plot.save(fig, args.out / "activations.png")
        _saved(say, args, "activations.png")
    worst_v = max(r["max_value_diff"] for r in results.values())
    worst_g = max(r["max_grad_diff"] for r in results.values())
    return results, f"largest gap to torch {worst_v:.2g} (values), {worst_g:.2g} (derivatives)"


def run_mlp(args, device, say):
    """§4.2-4.3: the scratch MLP and nn.Sequential, same start and same batches."""
    from ..utils import plot
    from . import compare_mlp

    epochs = _epochs(args, "mlp")
    say(f"§4.2-4.3 MLP 784-256-10 on Fashion-MNIST: batch 256, lr 0.1, {epochs} epochs, "
        f"device {device}")
    cmp = compare_mlp(256, 0.1, epochs, seed=args.seed, data=_fashion_mnist(args, device),
                      device=device, quiet=args.quiet)
    cli.history_table(say, cmp.histories)
    _gap_lines(say, cmp)
    results = {**cli.final_figures(cmp.histories), "max_param_diff": cmp.max_param_diff,
               "param_diff_per_epoch": cmp.extra["param_diff_per_epoch"]}
    if not args.no_plots:
        plot.plot_history(cmp.histories, title="MLP on Fashion-MNIST (§4.2-4.3): scratch "
                          "(band) and concise (dashed)", path=args.out / "mlp_curves.png")
        _saved(say, args, "mlp_curves.png")
    acc = " / ".join(f"{results[k]['test_acc']:.4f}" for k in cmp.histories)
    return results, f"test acc scratch / concise {acc}, max_param_diff {cmp.max_param_diff:.2g}"


def _backprop_check(X, y, seed):
    """Hand gradients of the MLP against autograd in float64, and gradcheck of each Function."""
    import torch
    import torch.nn.functional as F

    from . import scratch

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
    small = [torch.randn(6, 12, dtype=torch.float64), torch.randn(12, 9, dtype=torch.float64),
             torch.randn(9, dtype=torch.float64), torch.randn(9, 4, dtype=torch.float64),
             torch.randn(4, dtype=torch.float64)]
    small = [t.requires_grad_(True) for t in small]
    labels = torch.tensor([0, 3, 1, 2, 3, 0])

    def composed(X, W1, b1, W2, b2):
        H = scratch.ReLU.apply(scratch.Linear.apply(X, W1, b1))
        return scratch.hand_softmax_cross_entropy(scratch.Linear.apply(H, W2, b2), labels)

    gradcheck = bool(torch.autograd.gradcheck(composed, small, eps=1e-6, atol=1e-7))
    return gaps, gradcheck


def run_backprop(args, device, say):
    """§4.7: gradients by hand against autograd and finite differences, then training with them."""
    from ..utils import plot
    from . import compare_hand_backprop

    data = _fashion_mnist(args, device)
    X, y = (t[:256].cpu() for t in data[0].tensors)
    gaps, gradcheck = _backprop_check(X, y, args.seed)
    say("§4.7 backpropagation by hand: MLP 784-256-10, 256 training images, float64")
    say("  max |hand - autograd|: " + ", ".join(f"{k} {v:.2g}" for k, v in gaps.items()))
    say(f"  gradcheck (finite differences) of the hand-written Functions: "
        f"{'passed' if gradcheck else 'FAILED'}")
    epochs = _epochs(args, "backprop")
    say(f"training with autograd and with the hand gradients: batch 256, lr 0.1, {epochs} "
        f"epochs, device {device}")
    cmp = compare_hand_backprop(256, 0.1, epochs, seed=args.seed, data=data, device=device,
                                quiet=args.quiet)
    cli.history_table(say, cmp.histories)
    _gap_lines(say, cmp)
    results = {"float64_max_grad_diff": gaps, "gradcheck": gradcheck,
               **cli.final_figures(cmp.histories), "max_param_diff": cmp.max_param_diff,
               "param_diff_per_epoch": cmp.extra["param_diff_per_epoch"]}
    if not args.no_plots:
        plot.plot_history(cmp.histories, title="MLP trained with autograd (band) and with "
                          "hand-derived gradients (dashed), §4.7",
                          path=args.out / "backprop_curves.png")
        _saved(say, args, "backprop_curves.png")
    worst = max(v for k, v in gaps.items() if k != "loss")
    return results, (f"float64 gap {worst:.2g}, gradcheck {'ok' if gradcheck else 'FAILED'}, "
                     f"trained max_param_diff {cmp.max_param_diff:.2g}")


def run_dropout(args, device, say):
    """§4.6: dropout statistics of scratch and nn.Dropout, then the dropout MLP both ways."""
    import torch
    from torch import nn

    from ..utils import plot
    from . import compare_dropout, scratch

    say("§4.6 dropout on a 1000 x 1000 tensor of ones: fraction zeroed and mean "
        "(should be p and 1)")
    say(f"{'p':>4}  {'zeros scratch':>13}  {'zeros nn':>9}  {'mean scratch':>12}  {'mean nn':>8}")
    torch.manual_seed(args.seed)
    X = torch.ones(1000, 1000)
    stats = {}
    for p in (0.0, 0.2, 0.5, 0.8, 1.0):
        out_s, out_c = scratch.dropout_layer(X, p), nn.functional.dropout(X, p, training=True)
        stats[str(p)] = row = {
            "zeros_scratch": float((out_s == 0).float().mean()),
            "zeros_concise": float((out_c == 0).float().mean()),
            "mean_scratch": float(out_s.mean()), "mean_concise": float(out_c.mean())}
        say(f"{p:4.1f}  {row['zeros_scratch']:13.4f}  {row['zeros_concise']:9.4f}  "
            f"{row['mean_scratch']:12.4f}  {row['mean_concise']:8.4f}")
    epochs = _epochs(args, "dropout")
    say(f"MLP 784-256-256-10, dropout 0.2 and 0.5, batch 256, lr 0.5, {epochs} epochs, "
        f"device {device}; the masks differ, so the runs are compared by accuracy")
    cmp = compare_dropout(256, 0.5, epochs, seed=args.seed, data=_fashion_mnist(args, device),
                          device=device, quiet=args.quiet)
    cli.history_table(say, cmp.histories)
    results = {"statistics": stats, **cli.final_figures(cmp.histories)}
    if not args.no_plots:
        plot.plot_history(cmp.histories, title="Dropout MLP on Fashion-MNIST (§4.6): scratch "
                          "(band) and concise (dashed)", path=args.out / "dropout_curves.png")
        _saved(say, args, "dropout_curves.png")
    acc = " / ".join(f"{results[k]['test_acc']:.4f}" for k in cmp.histories)
    return results, f"test acc scratch / concise {acc}"


def run_init(args, device, say):
    """§4.8: vanishing and exploding gradients, Xavier init, activation variance by depth."""
    import torch
    from torch import nn

    from ..utils import plot
    from . import activation_variance, matrix_product, scratch

    x = torch.linspace(-8, 8, 321)
    grad_at = {v: float(scratch.sigmoid_grad(torch.tensor(v))) for v in (0.0, 4.0, 8.0)}
    say("§4.8.1 sigmoid gradient: " + ", ".join(f"at {k:g}: {v:.3g}" for k, v in grad_at.items())
        + " (it vanishes away from 0)")
    M = matrix_product(100, 4, seed=args.seed)
    largest = float(M.abs().max())
    say(f"§4.8.1 product of 100 random 4x4 N(0, 1) matrices: largest |entry| = {largest:.3g} "
        "(the book sees ~1e25)")

    say("§4.8.2 Xavier init (n_in 784, n_out 256): variance, scratch against nn.init "
        "(theory 2 / (n_in + n_out))")
    n_in, n_out = 784, 256
    theory = 2 / (n_in + n_out)
    torch.manual_seed(args.seed)
    xavier = {}
    for kind in ("uniform", "normal"):
        W_s = getattr(scratch, f"xavier_{kind}")(n_in, n_out)
        W_c = getattr(nn.init, f"xavier_{kind}_")(torch.empty(n_out, n_in))
        xavier[kind] = {"var_scratch": float(W_s.var()), "var_concise": float(W_c.var()),
                        "theory": theory, "shape_matches": W_s.shape == W_c.shape,
                        "max_abs_scratch": float(W_s.abs().max()),
                        "max_abs_concise": float(W_c.abs().max())}
        say(f"  {kind:>7}: scratch {xavier[kind]['var_scratch']:.6f}, nn.init "
            f"{xavier[kind]['var_concise']:.6f}, theory {theory:.6f}, "
            f"shape {tuple(W_s.shape)} {'==' if W_s.shape == W_c.shape else '!='} "
            f"{tuple(W_c.shape)}")

    inits = {"N(0, 1)": lambda a, b: torch.randn(b, a),
             "N(0, 0.01)": lambda a, b: torch.randn(b, a) * 0.01,
             "Xavier": scratch.xavier_normal}
    variances = {k: activation_variance(f, 10, 256, seed=args.seed) for k, f in inits.items()}
    say("§4.8.2 variance of the activations through 10 linear layers of width 256 "
        "(input N(0, 1))")
    say("layer  " + "  ".join(f"{k:>11}" for k in variances))
    for i in range(11):
        say(f"{i:5d}  " + "  ".join(f"{v[i]:11.3g}" for v in variances.values()))
    if not args.no_plots:
        fig, axes = plot.new_figure(1, 2, figsize=(10, 3.5))
        ax = axes[0, 0]
        ax.plot(x, scratch.sigmoid(x), label="sigmoid")
        ax.plot(x, scratch.sigmoid_grad(x), "--", label="gradient")
        ax.set(xlabel="x", title="The sigmoid's gradient vanishes (§4.8.1)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        ax = axes[0, 1]
        for (name, v), style in zip(variances.items(), ("-o", "--s", "-.^")):
            ax.plot(range(11), v, style, label=name, markersize=4)
        ax.set(xlabel="layer", ylabel="variance of activations", yscale="log",
               title="10 linear layers of width 256 (§4.8.2)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        plot.save(fig, args.out / "init.png")
        _saved(say, args, "init.png")
    results = {"sigmoid_grad": {str(k): v for k, v in grad_at.items()},
               "matrix_product_max_abs": largest, "xavier": xavier,
               "activation_variance": variances}
    return results, (f"100 matrices -> {largest:.2g}; layer-10 variance "
                     + ", ".join(f"{k} {v[-1]:.2g}" for k, v in variances.items()))


def _later(module, name):
    """A topic whose code lives in ``d2lnotes.ch4.<module>``, imported only when it runs."""
    def run(args, device, say):
        return getattr(importlib.import_module(f"{__package__}.{module}"), name)(args, device, say)
    return run


# The registry, in the book's order. `best` (the accuracy recipe) is not part of `all`.
TOPICS = {
    "activations": run_activations,
    "mlp": run_mlp,
    "backprop": run_backprop,
    "model-selection": _later("selection", "run_model_selection"),
    "weight-decay": _later("selection", "run_weight_decay"),
    "dropout": run_dropout,
    "init": run_init,
    "kaggle": _later("kaggle", "run_kaggle"),
    "best": _later("recipe", "run_best"),
}
NOT_IN_ALL = {"best"}


def build_parser():
    parser = cli.Parser(prog="python -m d2lnotes.ch4", description=DESCRIPTION,
                        formatter_class=cli.argparse.RawDescriptionHelpFormatter)
    parser.add_argument("topics", nargs="*", metavar="topic",
                        help=f"one or more of {', '.join(TOPICS)}, all (default all, "
                             "which leaves out best)")
    parser.add_argument("--epochs", type=cli.positive_int, default=None,
                        help="train every topic for N epochs instead of the book's count "
                             "(e.g. --epochs 1 for a quick run)")
    parser.add_argument("--sweep", action="store_true",
                        help="best only: first choose the learning rate on the validation "
                             "split (adds about 45 s)")
    cli.add_common_options(parser, "ch4")
    return parser


def _selected(names):
    """Topic names in the registry's order, without repeats; unknown names are a UsageError."""
    names = names or ["all"]
    for name in names:
        if name != "all" and name not in TOPICS:
            close = difflib.get_close_matches(name, TOPICS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise UsageError(f"unknown topic {name!r}{hint}; choose from "
                             f"{', '.join(TOPICS)} or all")
    wanted = set(TOPICS) - NOT_IN_ALL if "all" in names else set(names)
    return [t for t in TOPICS if t in wanted]


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    topics = _selected(args.topics)
    device = cli.resolve_device(args.device)
    cli.prepare_outputs(args)
    say = (lambda *a: None) if args.quiet else print

    results, seconds, summaries = {}, {}, {}
    for topic in topics:
        start = time.perf_counter()
        results[topic], summaries[topic] = TOPICS[topic](args, device, say)
        seconds[topic] = time.perf_counter() - start
        say()

    print(f"{'topic':<16} {'seconds':>8}  summary")
    for topic in topics:
        print(f"{topic:<16} {seconds[topic]:8.1f}  {summaries[topic]}")
    if not args.no_plots:
        print(f"plots in {args.out}")
    if args.json is not None:
        write_json(args.json, {"results": results, "seconds": seconds,
                               "settings": {"topics": topics, "epochs": args.epochs,
                                            "book_epochs": BOOK_EPOCHS, "seed": args.seed,
                                            "device": str(device),
                                            "num_threads": cli.num_threads()}})
        print(f"results: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
