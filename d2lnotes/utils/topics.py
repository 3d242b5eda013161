"""One shape for the chapter commands: each topic is declared once, and one driver runs them.

A :class:`Topic` is declared in its chapter's ``__init__.py`` with its ``editions`` key
(``"ch4.model_selection"``), from which follow its command-line name (``model-selection``),
its Python name (``ch4.model_selection``) and its report (``report.model_selection``). It
also names the experiment that returns its data and says, for ``--help``, what it runs.
A report is ``report(run, say)``: it runs the experiment with the settings of a
:class:`Run`, prints its table with ``say`` (a no-op under ``--quiet``), saves its pictures
with :meth:`Run.save`, and returns ``(results, summary)``: a JSON-ready dict and one line.

Nothing here imports torch: a chapter's ``--help`` answers before torch loads.
"""

import difflib
import importlib
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from .cli import num_threads
from .errors import D2LError, UsageError
from .io import write_json


@dataclass(frozen=True)
class Topic:
    """One topic of a chapter command: its ``editions`` key, its experiment, what it runs.

    ``experiment`` is ``"module:function"`` inside the chapter's package (``"kaggle:
    house_prices"``), imported only when used. ``also`` are further ``editions`` keys that
    the topic covers; ``in_all=False`` leaves it out of ``all``; ``writes_into_out`` says
    that it writes into ``--out`` even with ``--no-plots``; ``results_key`` names its
    entry in ``--json`` when that is not its command-line name.
    """

    key: str
    experiment: str
    what: str
    also: tuple = ()
    in_all: bool = True
    writes_into_out: bool = False
    results_key: str = ""

    @property
    def package(self):
        """``"d2lnotes.ch4"`` for ``ch4.*``."""
        return "d2lnotes." + self.key.split(".")[0]

    @property
    def python_name(self):
        """``"model_selection"`` for ``ch4.model_selection``: ``ch4.model_selection`` in Python."""
        return self.key.split(".", 1)[1]

    @property
    def name(self):
        """The command-line name, ``"model-selection"``."""
        return self.python_name.replace("_", "-")

    def lines(self):
        """``what`` as stripped lines, for ``--help``."""
        return [line.strip() for line in self.what.strip().splitlines()]

    def report(self):
        """The report function, ``<package>.report.<python_name>``, imported now."""
        return getattr(importlib.import_module(self.package + ".report"), self.python_name)


def listing(rows, width):
    """``--help`` lines for ``(name, lines)`` rows: the first line beside the name, the
    others under it."""
    return "".join(f"  {name:<{width}} {lines[0]}\n"
                   + "".join(f"  {'':<{width}} {line}\n" for line in lines[1:])
                   for name, lines in rows)


def table(*topics):
    """``{name: Topic}`` in the order given (the book's)."""
    return {t.name: t for t in topics}


def python_names(topics):
    """``{python_name: experiment}``: the map that makes ``ch4.mlp`` ``compare_mlp``."""
    return {t.python_name: t.experiment for t in topics.values()}


def select(names, topics):
    """Topic names in the table's order, without repeats; ``all`` (the default) is every
    topic with ``in_all``, and ``model_selection`` is ``model-selection``. An unknown name
    is a UsageError with a suggestion."""
    wanted = set()
    for given in names or ["all"]:
        name = given.replace("_", "-")
        if name == "all":
            wanted |= {n for n, t in topics.items() if t.in_all}
        elif name in topics:
            wanted.add(name)
        else:
            close = difflib.get_close_matches(name, topics, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise UsageError(f"unknown topic {given!r}{hint}; choose from "
                             f"{', '.join(topics)} or all")
    return [n for n in topics if n in wanted]


@dataclass
class Run:
    """The command line's settings, as the reports need them; ``out`` is None for no plots.

    ``epochs`` None means each topic's book count; ``written`` collects the pictures saved,
    ``train_seconds`` the training time of each version where a report records it.
    """

    seed: int = 0
    device: object = None
    epochs: int | None = None
    lr: float | None = None
    batch_size: int = 256
    impl: str = "both"
    out: Path | None = None
    data_dir: Path | None = None
    quiet: bool = True
    sweep: bool = False
    submission: Path | None = None
    written: list = field(default_factory=list)
    train_seconds: dict = field(default_factory=dict)
    _fashion: tuple | None = field(default=None, repr=False)

    @classmethod
    def from_args(cls, args, device, **settings):
        """A Run from parsed options: those it has a field for, and ``settings``."""
        names = ("seed", "epochs", "lr", "batch_size", "impl", "data_dir", "quiet", "sweep")
        given = {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}
        out = None if getattr(args, "no_plots", False) else args.out
        return cls(**{"device": device, "out": out, **given, **settings})

    def say(self, *text):
        """``print``, except under ``--quiet``."""
        if not self.quiet:
            print(*text)

    def fashion_mnist(self):
        """Fashion-MNIST at ``batch_size``, loaded once and shared by the topics."""
        from .data import load_fashion_mnist

        if self._fashion is None:
            self._fashion = load_fashion_mnist(self.batch_size, root=self.data_dir,
                                               device=self.device)
        return self._fashion

    def save(self, fig, name):
        """Save ``fig`` as ``out / name`` (a PNG), note it in ``written``; return the path."""
        from .plot import save

        self.written.append(save(fig, self.out / name))
        return self.written[-1]


@dataclass
class Outcome:
    """What the driver returns: per topic key, its results, seconds and summary line; and
    ``failed``, the error line of each topic that raised (with ``keep_going``)."""

    results: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    summaries: dict = field(default_factory=dict)
    failed: dict = field(default_factory=dict)

    def print_summaries(self, plots=None):
        """One row per topic: its name, its seconds and its summary (or why it failed); then
        the folder of the pictures, if ``plots`` names it."""
        print(f"{'topic':<16} {'seconds':>8}  summary")
        for name, summary in self.summaries.items():
            print(f"{name:<16} {self.seconds[name]:8.1f}  {summary}")
        if plots is not None:
            print(f"plots in {plots}")

    def failure(self):
        """Exit status 1 and one line on stderr if a topic failed, else 0."""
        if not self.failed:
            return 0
        print(f"error: {len(self.failed)} of {len(self.seconds)} topics failed "
              f"({', '.join(self.failed)}); their rows above say why, the other topics' "
              "results are complete", file=sys.stderr)
        return 1


def drive(topics, run, *, between=None, keep_going=False, debug=False):
    """Run each topic's report in order and time it; return an :class:`Outcome`.

    ``between()`` runs between two topics. With ``keep_going`` a topic that raises loses
    only itself: its summary carries the error and the others run on; without it, the
    error propagates (``cli.run`` prints it).
    """
    done = Outcome()
    for i, topic in enumerate(topics):
        if i and between is not None:
            between()
        key = topic.results_key or topic.name
        start = time.perf_counter()
        try:
            done.results[key], done.summaries[key] = topic.report()(run, run.say)
        except Exception as e:
            if not keep_going:
                raise
            if debug:
                traceback.print_exc()
            done.failed[key] = str(e) if isinstance(e, D2LError) else f"{type(e).__name__}: {e}"
            done.summaries[key] = f"FAILED: {done.failed[key]}"
        done.seconds[key] = time.perf_counter() - start
    return done


def write_results(args, device, document, **settings):
    """Write ``document`` to ``--json PATH`` (if given) and say where: ``results: PATH``.
    Its ``settings`` are these, then the seed, the device and torch's thread count."""
    if args.json is not None:
        settings.update(seed=args.seed, device=str(device), num_threads=num_threads())
        write_json(args.json, {**document, "settings": settings})
        print(f"results: {args.json}")
