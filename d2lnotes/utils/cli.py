"""What every chapter command shares: options, their checks, the device, output folders,
and turning a :class:`~d2lnotes.utils.errors.D2LError` into one line on stderr."""

import argparse
import math
import os
import sys
import traceback
from pathlib import Path

from .errors import D2LError, UsageError


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line: ``error: ...; see --help``."""

    def error(self, message):
        self.exit(2, f"error: {message}; run '{self.prog} --help' to see the options\n")


def positive_int(text):
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text):
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {text}")
    return value


def add_training_options(parser, *, epochs, lr, batch_size):
    """Add ``--epochs --lr --batch-size`` with the book's defaults for this chapter."""
    parser.add_argument("--epochs", type=positive_int, default=epochs,
                        help=f"training epochs (book: {epochs})")
    parser.add_argument("--lr", type=positive_float, default=lr,
                        help=f"learning rate, > 0 (book: {lr})")
    parser.add_argument("--batch-size", type=positive_int, default=batch_size,
                        help=f"minibatch size, >= 1; one larger than the data gives a "
                             f"single batch (book: {batch_size})")


def add_common_options(parser, chapter):
    """Add the options every chapter command has."""
    parser.add_argument("--seed", type=int, default=0,
                        help="random seed; the same seed gives the same numbers on CPU (default 0)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                        help="where to train: auto picks cuda when a GPU is present (default auto)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="dataset folder (default: $D2LNOTES_DATA, else ./data)")
    parser.add_argument("--out", type=Path, default=Path("d2lnotes-out") / chapter,
                        help=f"folder for the PNG plots (default d2lnotes-out/{chapter})")
    parser.add_argument("--no-plots", action="store_true", help="write no PNG files")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar and no per-epoch tables, only the summary")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH",
                        help="also write every final figure to this JSON file")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback when something goes wrong")


def resolve_device(name):
    """Turn ``auto|cpu|cuda`` into a ``torch.device``; cuda without a GPU is a UsageError."""
    import torch

    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda was asked for but no CUDA GPU is available; "
                         "use --device cpu or --device auto")
    return torch.device(name)


def _check_writable_dir(folder, what):
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".d2lnotes-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise UsageError(f"{what} {folder} is not a writable folder ({reason}); "
                         "choose another path") from None


def prepare_outputs(args, out_used=None):
    """Check, before any training, that ``--out`` and ``--json`` can be written.

    ``--out`` is checked when it will be written: unless ``--no-plots``, or when
    ``out_used`` says so (a topic that writes a file there whatever the flags).
    """
    if (not args.no_plots) if out_used is None else out_used:
        if args.out.exists() and not args.out.is_dir():
            raise UsageError(f"--out {args.out} is a file, not a folder; choose another path")
        _check_writable_dir(args.out, "--out")
    if args.json is not None:
        if args.json.is_dir():
            raise UsageError(f"--json {args.json} is a folder; give a file path")
        _check_writable_dir(args.json.parent, "the folder of --json")


def history_table(say, histories):
    """Print one row per epoch: loss, train and test accuracy of each version side by side."""
    say("       " + " | ".join(f"{k:^26}" for k in histories))
    say("epoch  " + " | ".join(f"{'loss':>8} {'train':>8} {'test':>8}" for _ in histories))
    for e in range(len(next(iter(histories.values())).train_loss)):
        say(f"{e + 1:5d}  " + " | ".join(
            f"{h.train_loss[e]:8.4f} {h.train_acc[e]:8.4f} {h.test_acc[e]:8.4f}"
            for h in histories.values()))


def final_figures(histories):
    """``{version: {train_loss, train_acc, test_acc}}`` after the last epoch, for ``--json``."""
    return {k: {"train_loss": h.train_loss[-1], "train_acc": h.train_acc[-1],
                "test_acc": h.test_acc[-1]} for k, h in histories.items()}


def run(main, argv=None):
    """Call ``main(argv)`` and map errors to ``error: ...`` on stderr and an exit status."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        return main(argv) or 0
    except D2LError as e:
        if "--debug" in argv:
            traceback.print_exc()
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("\ninterrupted; results finished so far are printed above, "
              "and no partial output file was left", file=sys.stderr)
        return 130
