"""What ``python -m d2lnotes.ch4`` shows for each topic (``d2lnotes.ch4.TOPICS``): a report
runs the experiment, prints its table, saves its pictures, and returns a JSON-ready dict of
results and a one-line summary (see ``d2lnotes.utils.topics``).

The computing is in ``experiments.py``, ``kaggle.py`` and ``recipe.py``; a report here
only passes the command line's settings (a :class:`Run`) as explicit keyword arguments.
Pictures with more than one curve are built by the ``*_figure`` functions.
"""

from ..editions import cite
from ..utils import cli, plot
from ..utils.topics import Run
from . import BOOK_EPOCHS
from . import experiments as ex

__all__ = ["BOOK_EPOCHS", "Run", "activations", "mlp", "model_selection", "weight_decay",
           "dropout", "backprop", "init", "kaggle", "best", "activations_figure",
           "model_selection_figure", "weight_decay_figure", "init_figure", "kfold_figure"]

def _epochs(run, topic):
    return run.epochs or BOOK_EPOCHS[topic]


def _n(count, noun):
    """``1 epoch``, ``10 epochs``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _saved(say, *paths):
    say("plots: " + ", ".join(str(p) for p in paths))


def _save(run, say, fig, name):
    if run.out:
        _saved(say, run.save(fig(), name))


# The largest gap after one epoch that float32 rounding explains, the bound tests/test_ch4.py
# asserts. Measured (seed 0, CPU): 1.5e-7 on 2 torch threads, 1.9e-5 on 1, 3 or 4.
FIRST_EPOCH_GAP_BOUND = 1e-4


def _gap_lines(say, cmp):
    gaps = cmp.extra["param_diff_per_epoch"]
    say("max_param_diff after each epoch: " + ", ".join(f"{g:.2g}" for g in gaps))
    bound = f"{FIRST_EPOCH_GAP_BOUND:.0e}".replace("e-0", "e-")  # 1e-4, as the test writes it
    if gaps[0] < FIRST_EPOCH_GAP_BOUND:
        first = (f"(after epoch 1, {gaps[0]:.2g} is float32 rounding: below "
                 f"{bound}, as tests/test_ch4.py asserts; between ~1e-7 and "
                 "~2e-5, by how torch splits the sums between its threads.")
    else:
        first = (f"(after epoch 1, {gaps[0]:.2g} is more than float32 rounding explains "
                 f"(tests/test_ch4.py asserts below {bound}): did both "
                 "versions start from the same parameters?")
    say(first + " A later jump comes when rounding puts a pre-activation on the other side "
        "of ReLU's kink in one run only. In float64 the two stay 1e-16 apart: see "
        "tests/test_ch4.py)")


def _curves(say, run, cmp, name, title, overlay=True):
    if run.out:
        plot.plot_history(cmp.histories, title=title, path=run.out / name, overlay=overlay)
        run.written.append(run.out / name)
        _saved(say, run.out / name)


def _fmt_w(w, n=None):
    return "[" + ", ".join(f"{float(v):6.3f}" for v in list(w)[:n]) + "]"


def _panel(ax, title=None, **labels):
    ax.set(title=title, **labels)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)


# --- topics, in the book's order ----------------------------------------------------------

def activations(run, say):
    """§4.1: each scratch activation and derivative against torch / autograd, and a plot."""
    say(f"{cite('ch4.activations')} "
        "activation functions: scratch against torch, closed-form derivative against "
        "autograd, float32 on x in [-100, 100] (0 and ±100 included)")
    results = ex.activation_gaps()
    say(f"{'function':>8}  {'max |f - torch|':>16}  {'max |df - autograd|':>20}  "
        f"{'df(0)':>6}  {'f(-100)':>10}  {'f(100)':>7}")
    for name, r in results.items():
        say(f"{name:>8}  {r['max_value_diff']:16.3g}  {r['max_grad_diff']:20.3g}  "
            f"{r['grad_at_0']:6.3g}  {r['at_minus_100']:10.3g}  {r['at_100']:7.3g}")
    _save(run, say, activations_figure, "activations.png")
    worst_v = max(r["max_value_diff"] for r in results.values())
    worst_g = max(r["max_grad_diff"] for r in results.values())
    return results, f"largest gap to torch {worst_v:.2g} (values), {worst_g:.2g} (derivatives)"


def activations_figure():
    """§4.1: each scratch activation and its derivative on [-6, 6]."""
    import torch

    from . import scratch

    fig, axes = plot.new_figure(1, 3, figsize=(11, 3.2))
    xs = torch.linspace(-6, 6, 241)
    for ax, name in zip(axes.flat, ex.ACTIVATIONS):
        ax.plot(xs, getattr(scratch, name)(xs), label=f"{name}(x)")
        ax.plot(xs, getattr(scratch, name + "_grad")(xs), "--", label=f"{name}'(x)")
        _panel(ax, name, xlabel="x")
    fig.suptitle("Activation functions and their derivatives (§4.1)")
    return fig


def mlp(run, say):
    """§4.2-4.3: the scratch MLP and nn.Sequential, same start and same batches."""
    epochs = _epochs(run, "mlp")
    say(f"{cite('ch4.mlp')} MLP 784-256-10 on Fashion-MNIST: batch 256, lr 0.1, "
        f"{_n(epochs, 'epoch')}, device {run.device}")
    cmp = ex.compare_mlp(256, 0.1, epochs, seed=run.seed, data=run.fashion_mnist(),
                         device=run.device, quiet=run.quiet)
    cli.history_table(say, cmp.histories)
    _gap_lines(say, cmp)
    results = {**cli.final_results(cmp.histories), "max_param_diff": cmp.max_param_diff,
               "param_diff_per_epoch": cmp.extra["param_diff_per_epoch"]}
    _curves(say, run, cmp, "mlp_curves.png",
            "MLP on Fashion-MNIST (§4.2-4.3): scratch (band) and concise (thin line)")
    acc = " / ".join(f"{results[k]['test_acc']:.4f}" for k in cmp.histories)
    return results, f"test acc scratch / concise {acc}, max_param_diff {cmp.max_param_diff:.2g}"


def model_selection(run, say):
    """§4.4: the three polynomial fits, their weights and curves."""
    poly = ex.model_selection(run.epochs, run.seed, run.device, quiet=run.quiet)
    say(f"{cite('ch4.model_selection')} "
        "polynomial regression, features x^i/i! (i < 20), 100 train / 100 test, noise 0.1, "
        "batch 10; concise: nn.MSELoss + optim.SGD lr 0.01, scratch: squared_loss + SGD lr 0.02")
    say(f"{'fit':>9} {'features':>8} {'epochs':>6} {'train loss':>11} {'test loss':>11} "
        f"{'max_param_diff':>14}  fitted w[:4] (concise)")
    results = {name: _fit_results(fit) for name, fit in poly.fits.items()}
    for name, r in results.items():
        say(f"{name:>9} {r['num_features']:8d} {r['num_epochs']:6d} {r['train_loss']:11.5f} "
            f"{r['test_loss']:11.5f} {r['max_param_diff']:14.3g}  {_fmt_w(r['w'], 4)}")
    say(f"{'true':>9} {'':8} {'':6} {'':11} {'':11} {'':14}  {_fmt_w(poly.true_w, 4)}"
        "   (book's cubic fit: [5.01, 1.24, -3.42, 5.50])")
    results["true_w"] = poly.true_w.tolist()
    _save(run, say, lambda: model_selection_figure(poly), "model_selection.png")
    test = {name: results[name]["test_loss"] for name in poly.fits}
    return results, (f"model selection: cubic w = {_fmt_w(results['normal']['w'])}, test loss "
                     f"normal {test['normal']:.4f} / underfit {test['underfit']:.2f} / overfit "
                     f"{test['overfit']:.4f}")


def _fit_results(fit):
    h, w, x = fit.histories["concise"], fit.extra["w"], fit.extra
    return {"num_features": x["num_features"], "num_epochs": x["num_epochs"],
            "train_loss": h.train_loss[-1], "test_loss": h.test_loss[-1],
            "w": w["concise"].cpu().tolist(), "w_scratch": w["scratch"].cpu().tolist(),
            "max_param_diff": fit.max_param_diff}


def model_selection_figure(poly):
    """§4.4: train and test loss of each polynomial fit, on a log scale."""
    fig, axes = plot.new_figure(1, 3, figsize=(13, 3.8))
    for ax, (name, fit) in zip(axes.flat, poly.fits.items()):
        h = fit.histories["concise"]
        epochs = range(1, len(h.train_loss) + 1)
        ax.plot(epochs, h.train_loss, label="train", color="tab:blue")
        ax.plot(epochs, h.test_loss, "--", label="test", color="tab:orange")
        ax.set(yscale="log", xlabel="epoch", ylabel="loss (MSE)",
               title=f"{name}: {fit.extra['num_features']} features")
        plot.log_ticks(ax)
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle("§4.4 polynomial regression: train and test loss (log scale)")
    return fig


def weight_decay(run, say):
    """§4.5: lambda 0 and 3, the scratch penalty against the optimizer's weight_decay."""
    runs = ex.weight_decay(num_epochs=run.epochs, seed=run.seed, device=run.device,
                           quiet=run.quiet)
    say(f"{cite('ch4.weight_decay')} "
        "weight decay: d = 200, 20 train / 100 test, batch 5, lr 0.003, "
        f"{_n(run.epochs or 100, 'epoch')}; scratch: squared_loss + lambd * l2_penalty(w); "
        "concise: nn.MSELoss + SGD(weight_decay=2 lambd on the weight, lr/2)")
    say(f"{'lambda':>6} {'||w|| scratch':>13} {'||w|| concise':>13} {'train loss':>11} "
        f"{'test loss':>10} {'max_param_diff':>14}")
    results = {f"lambda_{lambd:g}": _decay_results(lambd, cmp)
               for lambd, cmp in runs.items()}
    for r in results.values():
        say(f"{r['lambd']:6g} {r['w_norm']['scratch']:13.4f} {r['w_norm']['concise']:13.4f} "
            f"{r['train_loss']:11.5f} {r['test_loss']:10.5f} {r['max_param_diff']:14.3g}")
    say("(book: ||w|| about 13 without decay, about 0.36 with lambda 3)")
    _save(run, say, lambda: weight_decay_figure(runs), "weight_decay.png")
    r0, r3 = results["lambda_0"], results["lambda_3"]
    worst = max(r["max_param_diff"] for r in results.values())
    return results, (f"weight decay: ||w|| = {r0['w_norm']['scratch']:.2f} (lambda 0), "
                     f"{r3['w_norm']['scratch']:.3f} (lambda 3), test loss "
                     f"{r0['test_loss']:.3g} -> {r3['test_loss']:.3g}, scratch vs concise "
                     f"max_param_diff {worst:.2g}")


def _decay_results(lambd, cmp):
    h = cmp.histories["scratch"]
    return {"lambd": lambd, "w_norm": cmp.extra["w_norm"], "max_param_diff": cmp.max_param_diff,
            "train_loss": h.train_loss[-1], "test_loss": h.test_loss[-1]}


def weight_decay_figure(runs):
    """§4.5: train and test loss for each lambda, scratch (band) against concise (dashed)."""
    fig, axes = plot.new_figure(1, len(runs), figsize=(5.5 * len(runs), 3.8))
    for ax, (lambd, cmp) in zip(axes.flat, runs.items()):
        for name, style in (("scratch", dict(linewidth=5, alpha=0.35)),
                            ("concise", dict(linestyle="--", linewidth=1.6))):
            h = cmp.histories[name]
            epochs = range(1, len(h.train_loss) + 1)
            ax.plot(epochs, h.train_loss, color="tab:blue", label=f"{name} train", **style)
            ax.plot(epochs, h.test_loss, color="tab:orange", label=f"{name} test", **style)
        ax.set(yscale="log")
        _panel(ax, f"lambda = {lambd}: ||w|| = {cmp.extra['w_norm']['scratch']:.3g}",
               xlabel="epoch", ylabel="squared loss")
    fig.suptitle("§4.5 weight decay: scratch l2_penalty (band) vs optim weight_decay (dashed)")
    return fig


def dropout(run, say):
    """§4.6: dropout statistics of scratch and nn.Dropout, then the dropout MLP both ways."""
    say(f"{cite('ch4.dropout')} dropout on a 1000 x 1000 tensor of ones: fraction zeroed and mean "
        "(should be p and 1)")
    say(f"{'p':>4}  {'zeros scratch':>13}  {'zeros nn':>9}  {'mean scratch':>12}  {'mean nn':>8}")
    stats = ex.dropout_statistics(seed=run.seed)
    for p, row in stats.items():
        say(f"{float(p):4.1f}  {row['zeros_scratch']:13.4f}  {row['zeros_concise']:9.4f}  "
            f"{row['mean_scratch']:12.4f}  {row['mean_concise']:8.4f}")
    epochs = _epochs(run, "dropout")
    say(f"MLP 784-256-256-10, dropout 0.2 and 0.5, batch 256, lr 0.5, {_n(epochs, 'epoch')}, "
        f"device {run.device}; the masks differ, so the runs are compared by accuracy")
    cmp = ex.compare_dropout(256, 0.5, epochs, seed=run.seed, data=run.fashion_mnist(),
                             device=run.device, quiet=run.quiet)
    cli.history_table(say, cmp.histories)
    results = {"statistics": stats, **cli.final_results(cmp.histories)}
    _curves(say, run, cmp, "dropout_curves.png",
            "Dropout MLP on Fashion-MNIST (§4.6): scratch (blue) and concise (orange),\n"
            "two runs from the same start whose dropout masks differ", overlay=False)
    acc = " / ".join(f"{results[k]['test_acc']:.4f}" for k in cmp.histories)
    return results, f"test acc scratch / concise {acc}"


def backprop(run, say):
    """§4.7: gradients by hand against autograd and finite differences, then training with them."""
    data = run.fashion_mnist()
    X, y = (t[:256].cpu() for t in data[0].tensors)
    gaps, gradcheck = ex.check_hand_gradients(X, y, seed=run.seed)
    say(f"{cite('ch4.backprop')} "
        "backpropagation by hand: MLP 784-256-10, 256 training images, float64")
    say("  max |hand - autograd|: " + ", ".join(f"{k} {v:.2g}" for k, v in gaps.items()))
    say(f"  gradcheck (finite differences) of the hand-written Functions: "
        f"{'passed' if gradcheck else 'FAILED'}")
    epochs = _epochs(run, "backprop")
    say(f"training with autograd and with the hand gradients: batch 256, lr 0.1, "
        f"{_n(epochs, 'epoch')}, device {run.device}")
    cmp = ex.compare_hand_backprop(256, 0.1, epochs, seed=run.seed, data=data, device=run.device,
                                   quiet=run.quiet)
    cli.history_table(say, cmp.histories)
    _gap_lines(say, cmp)
    results = {"float64_max_grad_diff": gaps, "gradcheck": gradcheck,
               **cli.final_results(cmp.histories), "max_param_diff": cmp.max_param_diff,
               "param_diff_per_epoch": cmp.extra["param_diff_per_epoch"]}
    _curves(say, run, cmp, "backprop_curves.png",
            "MLP trained with autograd (band) and with hand-derived gradients (thin), §4.7")
    worst = max(v for k, v in gaps.items() if k != "loss")
    return results, (f"float64 gap {worst:.2g}, gradcheck {'ok' if gradcheck else 'FAILED'}, "
                     f"trained max_param_diff {cmp.max_param_diff:.2g}")


def init(run, say):
    """§4.8: vanishing and exploding gradients, Xavier init, activation variance by depth."""
    results = ex.init_statistics(seed=run.seed)
    say(f"{cite('ch4.init')} numerical stability and initialization")
    say("§4.8.1 sigmoid gradient: " + ", ".join(
        f"at {float(k):g}: {v:.3g}" for k, v in results["sigmoid_grad"].items())
        + " (it vanishes away from 0)")
    largest = results["matrix_product_max_abs"]
    say(f"§4.8.1 product of 100 random 4x4 N(0, 1) matrices: largest |entry| = {largest:.3g} "
        "(the book sees ~1e25)")
    say("§4.8.2 Xavier init (n_in 784, n_out 256): variance, scratch against nn.init "
        "(theory 2 / (n_in + n_out))")
    for kind, x in results["xavier"].items():
        say(f"  {kind:>7}: scratch {x['var_scratch']:.6f}, nn.init {x['var_concise']:.6f}, "
            f"theory {x['theory']:.6f}, shape (256, 784) {'==' if x['shape_matches'] else '!='} "
            "(256, 784)")
    variances = results["activation_variance"]
    say("§4.8.2 variance of the activations through 10 linear layers of width 256 "
        "(input N(0, 1))")
    say("layer  " + "  ".join(f"{k:>11}" for k in variances))
    for i in range(11):
        say(f"{i:5d}  " + "  ".join(f"{v[i]:11.3g}" for v in variances.values()))
    _save(run, say, lambda: init_figure(variances), "init.png")
    return results, (f"100 matrices -> {largest:.2g}; layer-10 variance "
                     + ", ".join(f"{k} {v[-1]:.2g}" for k, v in variances.items()))


def init_figure(variances):
    """§4.8: the sigmoid's vanishing gradient, and the variance of activations by depth."""
    import torch

    from . import scratch

    x = torch.linspace(-8, 8, 321)
    fig, axes = plot.new_figure(1, 2, figsize=(10, 3.5))
    ax = axes[0, 0]
    ax.plot(x, scratch.sigmoid(x), label="sigmoid")
    ax.plot(x, scratch.sigmoid_grad(x), "--", label="gradient")
    _panel(ax, "The sigmoid's gradient vanishes (§4.8.1)", xlabel="x")
    ax = axes[0, 1]
    for (name, v), style in zip(variances.items(), ("-o", "--s", "-.^")):
        ax.plot(range(11), v, style, label=name, markersize=4)
    ax.set(yscale="log")
    _panel(ax, "10 linear layers of width 256 (§4.8.2)", xlabel="layer",
           ylabel="variance of activations")
    return fig


def kfold_figure(folds, avg_valid_log_rmse):
    """§4.10's k-fold curves: the folds' mean, in a band from the best to the worst fold."""
    import torch

    k = len(folds)
    fig, ax = plot.new_figure(figsize=(6.5, 4))
    for key, what, style in (("train_loss", "train", "-"), ("test_loss", "valid", "--")):
        color = "tab:blue" if what == "train" else "tab:orange"
        curves = torch.tensor([getattr(h, key) for h in folds])
        epochs = range(1, curves.shape[1] + 1)
        ax.fill_between(epochs, curves.min(0).values, curves.max(0).values, color=color,
                        alpha=0.25, linewidth=0, label=f"{what}, min-max over {k} folds")
        ax.plot(epochs, curves.mean(0), style, color=color, label=f"{what}, mean of {k} folds")
    ax.set(yscale="log", xlabel="epoch", ylabel="log-RMSE",
           title=f"§4.10 {k}-fold validation: avg valid log-RMSE {avg_valid_log_rmse:.3f}")
    plot.log_ticks(ax)
    ax.grid(True, alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return fig


def kaggle(run, say):
    """§4.10: 5-fold validation, then train on all data and write submission.csv."""
    from .kaggle import house_prices, write_submission

    r = house_prices(num_epochs=run.epochs or 100, seed=run.seed, root=run.data_dir,
                     device=run.device, quiet=run.quiet)
    s, k = r.settings, len(r.folds)
    say(f"{cite('ch4.kaggle')} "
        f"Kaggle house prices: {r.num_train} train / {len(r.ids)} test houses, "
        f"{r.num_features} features; linear model, Adam lr {s['lr']:g}, weight decay "
        f"{s['weight_decay']:g}, batch {s['batch_size']}, {_n(s['num_epochs'], 'epoch')}, {k}-fold")
    say(f"{'fold':>4} {'train log rmse':>15} {'valid log rmse':>15}")
    for i, h in enumerate(r.folds, 1):
        say(f"{i:4d} {h.train_loss[-1]:15.4f} {h.test_loss[-1]:15.4f}")
    say(f"{'avg':>4} {r.avg_train_log_rmse:15.4f} {r.avg_valid_log_rmse:15.4f}   "
        "(book: valid about 0.17)")
    submission = write_submission(run.submission, r.ids, r.predictions)
    say(f"trained on all {r.num_train} houses: train log rmse {r.full.train_loss[-1]:.4f}; "
        f"wrote {submission}")
    _save(run, say, lambda: kfold_figure(r.folds, r.avg_valid_log_rmse), "kaggle_kfold.png")
    return _kaggle_results(r, submission), (
        f"kaggle: {r.num_features} features, {k}-fold avg log-RMSE train "
        f"{r.avg_train_log_rmse:.4f} valid {r.avg_valid_log_rmse:.4f} (book ~0.17); "
        f"wrote {submission}")


def _kaggle_results(r, submission):
    return {"num_features": r.num_features, "k": len(r.folds),
            "num_epochs": r.settings["num_epochs"],
            "folds": [{"train_log_rmse": h.train_loss[-1], "valid_log_rmse": h.test_loss[-1]}
                      for h in r.folds],
            "avg_train_log_rmse": r.avg_train_log_rmse,
            "avg_valid_log_rmse": r.avg_valid_log_rmse,
            "full_train_log_rmse": r.full.train_loss[-1], "submission": str(submission)}


def best(run, say):
    """The recipe: the best Fashion-MNIST accuracy Chapters 3-4 allow."""
    from .recipe import REFERENCES
    from .recipe import best as train_recipe

    _recipe_header(run, say)

    def each_epoch(h):
        say(f"  epoch {len(h.train_loss):3d}: train loss {h.train_loss[-1]:.4f}, train acc "
            f"{h.train_acc[-1]:.4f}, validation acc {h.test_acc[-1]:.4f}")

    r = train_recipe(sweep=run.sweep, num_epochs=run.epochs, seed=run.seed, root=run.data_dir,
                     device=run.device, quiet=run.quiet, callback=each_epoch)
    for lr, acc in (r.sweep or {}).items():
        say(f"  lr {lr}: validation accuracy {acc:.4f}")
    say(f"lr {r.lr}")
    curves = {k: v for k, v in r.history.as_dict().items() if k != "seconds"}
    results = {**r.results, "history": curves,
               "lr_sweep": {str(k): v for k, v in r.sweep.items()} if r.sweep else None,
               "references": REFERENCES}
    if run.out:
        path = run.out / "best_curves.png"
        plot.plot_history({"": r.history}, test_label="validation", path=path,
                          title="Chapter 4's best MLP: train and validation curves")
        run.written.append(path)
        _saved(say, path)
    return results, _recipe_summary(r, REFERENCES)


def _recipe_header(run, say):
    from .recipe import LR_CANDIDATES, RECIPE, SWEEP_EPOCHS

    s = RECIPE
    if run.sweep:
        say(f"choosing lr on the validation split: {', '.join(map(str, LR_CANDIDATES))}, "
            f"{SWEEP_EPOCHS} epochs each, then training the recipe")
    say(f"recipe: MLP 784-{'-'.join(map(str, s['num_hiddens']))}-10, dropout "
        f"{s['dropout']}, Xavier init, weight decay {s['weight_decay']}, plain SGD, "
        f"batch {s['batch_size']}, {_n(run.epochs or s['num_epochs'], 'epoch')}, "
        f"{60000 - s['num_val']} training / {s['num_val']} validation images")


def _recipe_summary(r, references):
    f = r.results
    lines = [f"validation accuracy {f['val_acc']:.4f}, test accuracy {f['test_acc']:.4f}, "
             f"{r.seconds:.1f} s in all ({sum(r.history.seconds):.1f} s training)",
             "published test accuracies for comparison:", f"  {f['test_acc']:.4f}  this recipe"]
    return "\n".join(lines + [f"  {v:.4f}  {k}" for k, v in references.items()])
