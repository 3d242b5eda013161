"""What ``python -m d2lnotes.ch3`` shows for each topic (``d2lnotes.ch3.TOPICS``): a report
runs the experiment, prints its table, saves its pictures and returns ``(results, summary)``
(see ``d2lnotes.utils.topics``); the training seconds of each version go to
``run.train_seconds``."""

from ..editions import cite
from ..utils import cli, plot
from . import experiments as ex


def _fmt(x):
    return "-" if x is None else f"{x:.4f}"


def _summary(cmp):
    gap = cmp.max_param_diff
    return f"max_param_diff {gap:.3g}" if gap is not None else f"{', '.join(cmp.histories)} only"


def linreg(run, say):
    """§3.2-3.5: both versions on the book's synthetic data and settings; the errors in w, b."""
    print(f"{cite('ch3.linreg')} "
          "linear regression: w = [2, -3.4], b = 4.2, 1000 examples, batch 10, "
          "lr 0.03, 3 epochs")
    lin = ex.compare_linear_regression(seed=run.seed, impl=run.impl, quiet=run.quiet)
    impls = list(lin.histories)
    say("epoch  " + "  ".join(f"{k + ' loss':>14}" for k in impls))
    for e in range(len(lin.histories[impls[0]].train_loss)):
        say(f"{e + 1:5d}  " + "  ".join(f"{lin.histories[k].train_loss[e]:14.6f}" for k in impls))
    if "concise" in impls:
        say("(nn.MSELoss has no 1/2, so the concise loss reads twice the scratch one)")
    results = {k: {"train_loss": lin.histories[k].train_loss[-1], **lin.extra[k]} for k in impls}
    for k in impls:
        print(f"{k:>8}: error in w = [{', '.join(f'{v:+.5f}' for v in results[k]['w_error'])}], "
              f"error in b = {results[k]['b_error']:+.5f}")
    run.train_seconds["linear_regression"] = {k: sum(h.seconds) for k, h in lin.histories.items()}
    if lin.max_param_diff is not None:
        print(f"max_param_diff = {lin.max_param_diff:.3g}")
        results["max_param_diff"] = lin.max_param_diff
    return results, _summary(lin)


def softmax(run, say):
    """§3.6-3.7: both versions on Fashion-MNIST; curves, and predictions with mistakes."""
    print(f"\n{cite('ch3.softmax')} softmax regression on Fashion-MNIST: batch {run.batch_size}, "
          f"lr {run.lr}, {run.epochs} epoch{'s' * (run.epochs != 1)}, device {run.device}")
    soft = ex.compare_softmax_regression(
        run.batch_size, run.lr, run.epochs, seed=run.seed, impl=run.impl,
        data=run.fashion_mnist(), device=run.device, quiet=run.quiet)
    hs = soft.histories
    cli.history_table(say, hs)
    results = cli.final_results(hs)
    run.train_seconds["softmax_regression"] = {k: sum(h.seconds) for k, h in hs.items()}
    for k, h in hs.items():
        print(f"{k:>8}: train loss {_fmt(h.train_loss[-1])}, train acc {_fmt(h.train_acc[-1])}, "
              f"test acc {_fmt(h.test_acc[-1])}, {sum(h.seconds):.1f} s")
    if soft.max_param_diff is not None:
        print(f"max_param_diff = {soft.max_param_diff:.3g} (largest gap between the final "
              "parameters of the two versions; float32 rounding is about 1e-6)")
        results["max_param_diff"] = soft.max_param_diff
    if run.out:
        run.written.append(run.out / "softmax_curves.png")
        plot.plot_history(hs, title="Softmax regression on Fashion-MNIST (§3.6-3.7): "
                          "scratch (band) and concise (thin line)", path=run.written[-1])
        net = soft.nets["concise" if "concise" in soft.nets else "scratch"]
        run.save(predictions_figure(net, run.fashion_mnist()[1]), "predictions.png")
        print(f"\nplots: {', '.join(map(str, run.written))}")
    return results, _summary(soft)


def predictions_figure(net, test_iter):
    """The first six test images, then six that ``net`` gets wrong, with their labels (§3.6)."""
    import torch

    from ..utils.data import fashion_mnist_labels

    X, y = test_iter.tensors
    with torch.inference_mode():
        preds = net(X).argmax(dim=1)
    # The book's predict_ch3 shows the first test images; a row of mistakes teaches more.
    wrong = torch.nonzero(preds != y).flatten()[:6]
    pick = torch.cat([torch.arange(6, device=y.device), wrong])
    titles = [f"{t}\n{'pred ' + p if t != p else '(correct)'}" for t, p in
              zip(fashion_mnist_labels(y[pick]), fashion_mnist_labels(preds[pick]))]
    return plot.show_images(X[pick].cpu(), 2, 6, titles=titles, scale=1.7,
                            row_titles=["first six test images",
                                        f"{'six' if len(wrong) == 6 else len(wrong)} mistakes"])
