"""``python -m d2lnotes.ch4 [topic ...]``: Chapter 4's topics, scratch and concise side by side.

Each topic is a function in ``report.py`` that runs one experiment with the settings of
the command line, prints its tables (no-ops under ``--quiet``), writes its PNGs, and
returns a JSON-ready dict and a one-line summary. ``main`` times each topic and prints
the summaries as a table at the end.
"""

import difflib
import sys
import time
import traceback

from ..editions import cite
from ..utils import cli
from ..utils.errors import D2LError, UsageError
from ..utils.io import write_json

_WHAT = {  # topic -> what it runs; the sections come from d2lnotes.editions
    "activations": "ReLU, sigmoid, tanh and their closed-form derivatives, checked\n"
                   "against torch and autograd; plot of each",
    "mlp": "MLP 784-256-10 on Fashion-MNIST, batch 256, lr 0.1, 10 epochs;\n"
           "same start, same batches, max_param_diff",
    "model-selection": "polynomial regression: a cubic fit, a linear one that underfits\n"
                       "and a 20-feature one, 400 / 1500 epochs",
    "weight-decay": "L2 penalty in the loss against the optimizer's weight_decay,\n"
                    "d = 200, 20 examples, lambda 0 and 3",
    "dropout": "MLP 784-256-256-10 with dropout 0.2 / 0.5, lr 0.5, 10 epochs",
    "backprop": "the MLP's gradients derived by hand (no autograd) against autograd\n"
                "in float64 and finite differences, then trained with them",
    "init": "vanishing sigmoid gradients, exploding matrix products, Xavier\n"
            "init against nn.init, activation variance over 10 layers",
    "kaggle": "house prices: SHA-1-checked CSVs, preprocessing, 5-fold log-RMSE\n"
              "of a linear model, submission.csv in --out",
    "best": "(not part of all; \"all best\" runs both) the best Fashion-MNIST\n"
            "accuracy the chapters allow: MLP, dropout, Xavier init",
}

def description():
    """The --help text: each topic with both editions' sections (d2lnotes.editions)."""
    topics = "".join(f"  {name:<16} {cite('ch4.' + name.replace('-', '_'))}\n"
                     + "".join(f"  {'':<16} {line}\n" for line in what.splitlines())
                     for name, what in _WHAT.items())
    return ("Chapter 4 of Dive into Deep Learning, from scratch and with torch.nn, side by "
            "side.\nTopics (default: all, in the book's order), with their sections in the "
            "classic\nedition and in the 1.0 edition:\n\n" + topics + "\n--epochs N "
            "replaces every topic's epoch count (the book's is used otherwise).\n")


# The registry, in the book's order; each topic is report.<name with _>, imported only
# after the command line is read. `best` (the accuracy recipe) is not part of `all`.
TOPICS = ("activations", "mlp", "model-selection", "weight-decay", "dropout", "backprop", "init",
          "kaggle", "best")
NOT_IN_ALL = {"best"}
WRITES_INTO_OUT = {"kaggle"}  # submission.csv goes to --out even with --no-plots


def build_parser():
    parser = cli.Parser(prog="python -m d2lnotes.ch4", description=description(),
                        formatter_class=cli.argparse.RawDescriptionHelpFormatter)
    parser.add_argument("topics", nargs="*", metavar="topic",
                        help=f"one or more of {', '.join(TOPICS)}, all (default all, "
                             "which leaves out best)")
    parser.add_argument("--epochs", type=cli.positive_int, default=None,
                        help="train every topic for N epochs instead of the book's count "
                             "(e.g. --epochs 1 for a quick run)")
    parser.add_argument("--sweep", action="store_true",
                        help="with best only: first choose the learning rate on the "
                             "validation split (adds about 45 s)")
    cli.add_common_options(parser, "ch4")
    return parser


def selected(names, sweep=False):
    """Topic names in the registry's order, without repeats.

    ``all`` means every topic but ``best``; ``all best`` means all of them. An unknown
    name, or ``--sweep`` without ``best``, is a UsageError.
    """
    names = names or ["all"]
    for name in names:
        if name != "all" and name not in TOPICS:
            close = difflib.get_close_matches(name, TOPICS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise UsageError(f"unknown topic {name!r}{hint}; choose from "
                             f"{', '.join(TOPICS)} or all")
    wanted = set(names) | (set(TOPICS) - NOT_IN_ALL if "all" in names else set())
    if sweep and "best" not in wanted:
        raise UsageError("--sweep only applies to the topic best; add best to the topics "
                         "or leave out --sweep")
    return [t for t in TOPICS if t in wanted]


def main(argv=None):
    args = build_parser().parse_args(argv)
    topics = selected(args.topics, args.sweep)
    device = cli.resolve_device(args.device)
    # Every output is checked before any training, whatever the flags.
    cli.prepare_outputs(args, out_used=not args.no_plots or bool(WRITES_INTO_OUT & set(topics)))
    say = (lambda *a: None) if args.quiet else print

    from . import report

    run = report.Run(seed=args.seed, device=device, epochs=args.epochs,
                     out=None if args.no_plots else args.out, data_dir=args.data_dir,
                     quiet=args.quiet, sweep=args.sweep, submission=args.out / "submission.csv")

    # A topic that fails loses only itself: its row carries the error, the others run on.
    results, seconds, summaries, failed = {}, {}, {}, {}
    for topic in topics:
        start = time.perf_counter()
        try:
            results[topic], summaries[topic] = getattr(report, topic.replace("-", "_"))(run, say)
        except Exception as e:  # noqa: BLE001 (reported in the topic's row, exit status 1)
            if args.debug:
                traceback.print_exc()
            failed[topic] = str(e) if isinstance(e, D2LError) else f"{type(e).__name__}: {e}"
            summaries[topic] = f"FAILED: {failed[topic]}"
        seconds[topic] = time.perf_counter() - start
        say()

    print(f"{'topic':<16} {'seconds':>8}  summary")
    for topic in topics:
        print(f"{topic:<16} {seconds[topic]:8.1f}  {summaries[topic]}")
    if not args.no_plots:
        print(f"plots in {args.out}")
    if args.json is not None:
        write_json(args.json, {"results": results, "seconds": seconds, "failed": failed,
                               "settings": {"topics": topics, "epochs": args.epochs,
                                            "book_epochs": report.BOOK_EPOCHS, "seed": args.seed,
                                            "device": str(device),
                                            "num_threads": cli.num_threads()}})
        print(f"results: {args.json}")
    if failed:
        print(f"error: {len(failed)} of {len(topics)} topics failed ({', '.join(failed)}); "
              "their rows above say why, the other topics' results are complete",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
