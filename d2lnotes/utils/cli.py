"""What every chapter command shares: options, their checks, the device, output folders,
and turning a :class:`~d2lnotes.utils.errors.D2LError` into one line on stderr."""

import argparse
import math
import os
import signal
import sys
import threading
import traceback
from pathlib import Path

from . import io
from .errors import D2LError, UsageError


class _Run:
    """What :func:`run` learns while ``main`` runs: the parsed options, and the thread
    settings that :func:`apply_threads` changed, to put back."""

    active = False
    args = None
    threads_before = None


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line: ``error: ...; see --help``.

    Under :func:`run` it also hands the parsed options to ``run`` (for ``--debug``, however
    abbreviated) and, for ``--json -``, sends the command's other printing to stderr so
    that standard output holds the JSON alone.
    """

    def error(self, message):
        self.exit(2, f"error: {message}; run '{self.prog} --help' to see the options\n")

    def parse_known_args(self, args=None, namespace=None):
        parsed, extra = super().parse_known_args(args, namespace)
        if _Run.active:
            _Run.args = parsed
            if str(getattr(parsed, "json", None)) == "-" and io.json_stdout is None:
                io.json_stdout, sys.stdout = sys.stdout, sys.stderr
        return parsed, extra


def int_in(low, high, what="a whole number"):
    """argparse type: an integer in ``[low, high]``."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, got {text}")
        return value

    parse.__name__ = f"int from {low} to {high}"
    return parse


# Far beyond any real run, and small enough that nothing downstream overflows.
positive_int = int_in(1, 10**9)
positive_int.__doc__ = "argparse type: an integer from 1 to 10**9."
# torch.manual_seed takes more, but numpy and the book's habits stop at 32 bits.
seed_int = int_in(0, 2**32 - 1)


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


def add_threads_option(parser):
    """Add ``--threads N`` (every command: the chapters, ``bench``, ``book``)."""
    parser.add_argument("--threads", type=int_in(1, 1024), default=None, metavar="N",
                        help="torch threads, 1 to 1024 (default: $D2LNOTES_THREADS, else 1: "
                             "a second thread saves ~25%% of an epoch on an idle 2-core "
                             "machine, but costs 2-10x as soon as another process runs)")


def apply_threads(args):
    """Set torch's thread count for this command and return it: ``--threads``, else
    ``$D2LNOTES_THREADS``, else 1. ``--threads`` also sets ``$D2LNOTES_THREADS``, so that the
    training loop and child processes use it; :func:`run` puts both back afterwards."""
    import torch

    from .train import THREADS_ENV, num_threads

    n = getattr(args, "threads", None) or num_threads()
    if _Run.active and _Run.threads_before is None:
        _Run.threads_before = (torch.get_num_threads(), os.environ.get(THREADS_ENV))
    torch.set_num_threads(n)
    if getattr(args, "threads", None):
        os.environ[THREADS_ENV] = str(n)
    return n


def add_common_options(parser, chapter):
    """Add the options every chapter command has."""
    parser.add_argument("--seed", type=seed_int, default=0,
                        help="random seed from 0 to 2**32-1; the same seed gives the same numbers "
                             "on CPU with the same thread count (default 0)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                        help="where to train: auto picks cuda when a GPU is present (default auto)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="dataset folder (default: $D2LNOTES_DATA, else ./data if it exists, "
                             "else ~/.cache/d2lnotes)")
    parser.add_argument("--out", type=Path, default=Path("d2lnotes-out") / chapter,
                        help=f"folder for the PNG plots (default d2lnotes-out/{chapter})")
    parser.add_argument("--no-plots", action="store_true", help="write no PNG files")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar and no per-epoch tables, only the summary")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH",
                        help="also write every final result to this JSON file")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback when something goes wrong")
    add_threads_option(parser)


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


def check_name_lengths(path, what):
    """UsageError if a component of ``path`` is longer than a file name can be (NAME_MAX)."""
    for part in Path(path).parts:
        size = len(os.fsencode(part))
        if size > io.NAME_MAX:
            raise UsageError(f"{what} has a {size}-byte name ({part[:24]}...), but a file or "
                             f"folder name can have at most {io.NAME_MAX} bytes; choose a "
                             "shorter path")


def _check_output_file(path, what):
    """A file to replace atomically, or a device or FIFO to write into (``/dev/null``)."""
    check_name_lengths(path, what)
    if io.writes_in_place(path):
        if not os.access(path, os.W_OK):
            raise UsageError(f"{what} {path} cannot be written (permission denied); "
                             "choose another path")
        return
    real = Path(os.path.realpath(path)) if path.is_symlink() else path
    if real.is_dir():
        raise UsageError(f"{what} {path} is a folder; give a file path")
    _check_writable_dir(real.parent, f"the folder of {what}")


def check_data_dir(data_dir):
    """Refuse, before any work, a data folder whose path cannot be a folder."""
    env = os.environ.get("D2LNOTES_DATA")
    what = "--data-dir" if data_dir else "D2LNOTES_DATA" if env else "the data folder"
    from .data import data_root  # after parsing: it imports torch

    root = data_root(data_dir)
    check_name_lengths(root, what)
    link = io.broken_link(root)
    if link is not None:
        raise UsageError(f"{what} {root}: {link}; fix or remove the link, or give another "
                         "folder for the datasets")
    blocker = io.file_in_the_way(root)
    if blocker is not None:
        raise UsageError(f"{what} {root}: {blocker} is a file, not a folder; give a "
                         "folder for the datasets")


def prepare_outputs(args, out_used=None):
    """Check, before any training, that ``--out``, ``--json`` and ``--data-dir`` are usable,
    and set the thread count (:func:`apply_threads`).

    ``--out`` is checked when it will be written: unless ``--no-plots``, or when
    ``out_used`` says so (a topic that writes a file there whatever the flags).
    ``--json -`` is standard output; ``/dev/null`` and other devices are written directly.
    """
    if (not getattr(args, "no_plots", True)) if out_used is None else out_used:
        check_name_lengths(args.out, "--out")
        if args.out.exists() and not args.out.is_dir():
            raise UsageError(f"--out {args.out} is a file, not a folder; choose another path")
        _check_writable_dir(args.out, "--out")
    if getattr(args, "json", None) is not None and str(args.json) != "-":
        _check_output_file(args.json, "--json")
    if hasattr(args, "data_dir"):
        check_data_dir(args.data_dir)
    apply_threads(args)


def num_threads():
    """torch's intra-op thread count: the same seed gives the same figures only for the same one
    (set by :func:`apply_threads`)."""
    import torch

    return torch.get_num_threads()


def history_table(say, histories):
    """Print one row per epoch: loss, train and test accuracy of each version side by side."""
    say("       " + " | ".join(f"{k:^26}" for k in histories))
    say("epoch  " + " | ".join(f"{'loss':>8} {'train':>8} {'test':>8}" for _ in histories))
    for e in range(len(next(iter(histories.values())).train_loss)):
        say(f"{e + 1:5d}  " + " | ".join(
            f"{h.train_loss[e]:8.4f} {h.train_acc[e]:8.4f} {h.test_acc[e]:8.4f}"
            for h in histories.values()))


def final_results(histories):
    """``{version: {train_loss, train_acc, test_acc}}`` after the last epoch, for ``--json``."""
    return {k: {"train_loss": h.train_loss[-1], "train_acc": h.train_acc[-1],
                "test_acc": h.test_acc[-1]} for k, h in histories.items()}


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where the program is, so that ``.part`` files are removed."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _terminate(signum, frame):
    # One clean-up is enough: a second signal must not cut it short.
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    raise Terminated(signum)


def _restore_threads():
    if _Run.threads_before is None:
        return
    import torch

    from .train import THREADS_ENV

    count, env = _Run.threads_before
    _Run.threads_before = None
    torch.set_num_threads(count)
    if env is None:
        os.environ.pop(THREADS_ENV, None)
    else:
        os.environ[THREADS_ENV] = env


def run(main, argv=None):
    """Call ``main(argv)`` and map errors to ``error: ...`` on stderr and an exit status.

    Ctrl-C (exit 130), SIGTERM (143) and SIGHUP (129) all stop the same way: what finished
    is printed, no ``.part`` file is left, and one line says so.
    """
    argv = sys.argv[1:] if argv is None else argv
    handlers = {}
    if threading.current_thread() is threading.main_thread():
        handlers[signal.SIGINT] = signal.getsignal(signal.SIGINT)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            handlers[sig] = signal.signal(sig, _terminate)
    stdout = sys.stdout
    _Run.active, _Run.args = True, None
    try:
        return main(argv) or 0
    except D2LError as e:
        if getattr(_Run.args, "debug", False):
            traceback.print_exc()
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt as e:
        signum = getattr(e, "signum", signal.SIGINT)
        how = "interrupted" if signum == signal.SIGINT else \
            f"stopped by {signal.Signals(signum).name}"
        print(f"\n{how}; results finished so far are printed above, "
              "and no partial output file was left", file=sys.stderr)
        return 128 + signum
    finally:
        _Run.active = False
        sys.stdout, io.json_stdout = stdout, None
        _restore_threads()
        for sig, handler in handlers.items():
            if handler is not None:
                signal.signal(sig, handler)
