"""``python -m d2lnotes.ch3``: linear and softmax regression, scratch and concise side by side."""

import sys

from ..editions import cite
from ..utils import cli
from ..utils.io import write_json

DESCRIPTION = f"""\
Chapter 3 of Dive into Deep Learning, run twice: from scratch and with torch.nn.
Both versions start from the same parameters and see the same batches, and the
largest gap between their final parameters (max_param_diff) is reported.

  1. Linear regression, {cite('ch3.linreg')}: y = Xw + b + noise,
     w = [2, -3.4], b = 4.2, 1000 examples, batch 10, lr 0.03, 3 epochs
     (always the book's settings).
  2. Softmax regression, {cite('ch3.softmax')}, on Fashion-MNIST;
     --epochs, --lr and --batch-size apply to this run.
"""


def build_parser():
    parser = cli.Parser(prog="python -m d2lnotes.ch3", description=DESCRIPTION,
                        formatter_class=cli.argparse.RawDescriptionHelpFormatter)
    cli.add_training_options(parser, epochs=10, lr=0.1, batch_size=256)
    parser.add_argument("--impl", choices=["scratch", "concise", "both"], default="both",
                        help="which version(s) to train (default both)")
    cli.add_common_options(parser, "ch3")
    return parser


def _fmt(x):
    return "-" if x is None else f"{x:.4f}"


def main(argv=None):
    args = build_parser().parse_args(argv)
    device = cli.resolve_device(args.device)
    cli.prepare_outputs(args)
    say = (lambda *a: None) if args.quiet else print

    import torch

    from ..utils import plot
    from ..utils.data import fashion_mnist_labels, load_fashion_mnist
    from . import compare_linear_regression, compare_softmax_regression

    results, seconds = {}, {}

    # --- linear regression -------------------------------------------------------------
    print(f"{cite('ch3.linreg')} "
          "linear regression: w = [2, -3.4], b = 4.2, 1000 examples, batch 10, "
          "lr 0.03, 3 epochs")
    lin = compare_linear_regression(seed=args.seed, impl=args.impl, quiet=args.quiet)
    impls = list(lin.histories)
    say("epoch  " + "  ".join(f"{k + ' loss':>14}" for k in impls))
    for e in range(len(lin.histories[impls[0]].train_loss)):
        say(f"{e + 1:5d}  " + "  ".join(f"{lin.histories[k].train_loss[e]:14.6f}" for k in impls))
    if "concise" in impls:
        say("(nn.MSELoss has no 1/2, so the concise loss reads twice the scratch one)")
    results["linear_regression"] = {}
    for k in impls:
        err = lin.extra[k]
        print(f"{k:>8}: error in w = [{', '.join(f'{v:+.5f}' for v in err['w_error'])}], "
              f"error in b = {err['b_error']:+.5f}")
        results["linear_regression"][k] = {"train_loss": lin.histories[k].train_loss[-1], **err}
    seconds["linear_regression"] = {k: sum(h.seconds) for k, h in lin.histories.items()}
    if lin.max_param_diff is not None:
        print(f"max_param_diff = {lin.max_param_diff:.3g}")
        results["linear_regression"]["max_param_diff"] = lin.max_param_diff

    # --- softmax regression ------------------------------------------------------------
    print(f"\n{cite('ch3.softmax')} softmax regression on Fashion-MNIST: batch {args.batch_size}, "
          f"lr {args.lr}, {args.epochs} epoch{'s' * (args.epochs != 1)}, device {device}")
    data = load_fashion_mnist(args.batch_size, root=args.data_dir, device=device)
    soft = compare_softmax_regression(args.batch_size, args.lr, args.epochs, seed=args.seed,
                                      impl=args.impl, data=data, device=device,
                                      quiet=args.quiet)
    hs = soft.histories
    cli.history_table(say, hs)
    results["softmax_regression"] = cli.final_figures(hs)
    seconds["softmax_regression"] = {k: sum(h.seconds) for k, h in hs.items()}
    for k, h in hs.items():
        print(f"{k:>8}: train loss {_fmt(h.train_loss[-1])}, train acc {_fmt(h.train_acc[-1])}, "
              f"test acc {_fmt(h.test_acc[-1])}, {sum(h.seconds):.1f} s")
    if soft.max_param_diff is not None:
        print(f"max_param_diff = {soft.max_param_diff:.3g} (largest gap between the final "
              "parameters of the two versions; float32 rounding is about 1e-6)")
        results["softmax_regression"]["max_param_diff"] = soft.max_param_diff

    if not args.no_plots:
        plot.plot_history(hs, title="Softmax regression on Fashion-MNIST (§3.6-3.7): "
                          "scratch (band) and concise (dashed)",
                          path=args.out / "softmax_curves.png")
        net = soft.nets["concise" if "concise" in soft.nets else "scratch"]
        X, y = data[1].tensors
        with torch.inference_mode():
            preds = net(X).argmax(dim=1)
        # The book's predict_ch3 shows the first test images; a row of mistakes teaches more.
        wrong = torch.nonzero(preds != y).flatten()[:6]
        pick = torch.cat([torch.arange(6, device=y.device), wrong])
        titles = [f"{t}\n{'pred ' + p if t != p else '(correct)'}" for t, p in
                  zip(fashion_mnist_labels(y[pick]), fashion_mnist_labels(preds[pick]))]
        plot.show_images(X[pick].cpu(), 2, 6, titles=titles, scale=1.7,
                         path=args.out / "predictions.png",
                         row_titles=["first six test images",
                                     f"{'six' if len(wrong) == 6 else len(wrong)} mistakes"])
        print(f"\nplots: {args.out / 'softmax_curves.png'}, {args.out / 'predictions.png'}")
    if args.json is not None:
        write_json(args.json, {"results": results, "seconds": seconds,
                               "settings": {"epochs": args.epochs, "lr": args.lr,
                                            "batch_size": args.batch_size, "seed": args.seed,
                                            "impl": args.impl, "device": str(device),
                                            "num_threads": cli.num_threads()}})
        print(f"figures: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
