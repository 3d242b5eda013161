"""The book layer's figures in a terminal: where the PNGs go, what they are called, which were
written during the running cell, and which ``Animator`` and ``ProgressBoard`` are not saved yet.

``python -m d2lnotes book`` names the running cell (:func:`set_cell`) before each cell and
collects after it (:func:`save_unsaved`, :func:`take_written`); ``classic.Animator`` and
``modern.ProgressBoard`` report here (:func:`track`, :func:`untrack`, :func:`wrote`). This
module owns that state: nothing else writes it.
"""

import itertools
import os
import sys
import weakref
from pathlib import Path

_cell = {"prefix": None}  # "<file stem>-cellNN" while the runner runs a cell
_written = []  # PNGs written since the last take_written()
# figure -> when it was first tracked: the figures with points not yet in a PNG
_unsaved = weakref.WeakKeyDictionary()
_order = itertools.count()
_shown = weakref.WeakKeyDictionary()  # figure -> True: passed to display() during the cell
_last_shown = []  # the figure display() showed last, for clear_output(wait=True)


def out_dir():
    """Where the book's figures are written: ``$D2LNOTES_BOOK_OUT``, else d2lnotes-out/book."""
    return Path(os.environ.get("D2LNOTES_BOOK_OUT") or Path("d2lnotes-out") / "book")


def in_notebook():
    """True inside a Jupyter kernel (where figures are shown, not written)."""
    from ..utils.plot import in_notebook as plot_in_notebook  # matplotlib only when asked

    return plot_in_notebook()


def in_runner():
    """True while ``python -m d2lnotes book`` runs a cell (it saves the figures after it)."""
    return _cell["prefix"] is not None


def set_cell(prefix):
    """Name the PNGs written from now on after ``prefix`` (``None``: no cell is running)."""
    _cell["prefix"] = prefix


def png_path(kind, number, folder=None):
    """``folder/<cell prefix>-<kind>-<number>.png`` (no prefix outside the runner)."""
    prefix = _cell["prefix"]
    name = f"{prefix}-{kind}-{number}.png" if prefix else f"{kind}-{number}.png"
    return Path(folder or out_dir()) / name


def track(figure):
    """``figure`` (an object with ``save()``) has points that are in no PNG yet."""
    _unsaved.setdefault(figure, next(_order))


def untrack(figure):
    """``figure`` was saved."""
    _unsaved.pop(figure, None)


def unsaved(kind=object, in_notebook=False):
    """The figures of type ``kind`` with points in no PNG, oldest first: the terminal ones, the
    notebook ones with ``in_notebook=True``, or both with ``None``."""
    tracked = sorted(list(_unsaved.items()), key=lambda item: item[1])
    return [f for f, _ in tracked if isinstance(f, kind)
            and in_notebook in (None, bool(f.notebook))]


def wrote(path):
    """Record a PNG written for the running cell; return ``path``."""
    _written.append(Path(path))
    return Path(path)


def take_written():
    """The PNGs written since the last call, in order; the list starts again empty."""
    paths = list(_written)
    _written.clear()
    return paths


def save_unsaved():
    """Save every terminal figure with unsaved points under its own name; return the paths.

    Each figure is tried once: one that fails is dropped, and the first failure is raised after
    the others are saved.
    """
    paths, failures = [], []
    for figure in unsaved():
        untrack(figure)
        try:
            paths.append(figure.save())
        except Exception as e:  # noqa: PERF203 (bad mathtext, a full disk, ...: the cell's)
            failures.append(e)
    if failures:
        raise failures[0]
    return [p for p in paths if p]


def shown(fig):
    """``display(fig)`` in a terminal: the figure is written as a PNG when the cell ends."""
    _shown[fig] = True
    _last_shown[:] = [weakref.ref(fig)]


def frame_done():
    """``clear_output(wait=True)`` after ``display(fig)``, the book's animation idiom (§3.6's
    own ``Animator``): print the points just drawn, as ``d2l.Animator`` does in a terminal."""
    fig = _last_shown[0]() if _last_shown else None
    _last_shown.clear()
    line = fig is not None and latest_points(fig)
    if line:
        print(line, flush=True)


def latest_points(fig):
    """``"epoch 3: train loss 0.5, test acc 0.81"``: each curve's point at the largest x of the
    first axes (the legend names the curves), or ``None`` when nothing is drawn."""
    if not fig.axes:
        return None
    ax = fig.axes[0]
    lines = [line for line in ax.get_lines() if len(line.get_xdata())]
    if not lines:
        return None
    legend = ax.get_legend()
    names = [t.get_text() for t in legend.get_texts()] if legend else []
    names += [f"y{i + 1}" for i in range(len(names), len(lines))]
    x = max(float(line.get_xdata()[-1]) for line in lines)
    values = ", ".join(f"{name} {float(line.get_ydata()[-1]):.4g}"
                       for name, line in zip(names, lines) if float(line.get_xdata()[-1]) == x)
    return f"{ax.get_xlabel() or 'x'} {x:g}: {values}"


def save_pyplot(folder=None):
    """Write every open pyplot figure, and every other figure passed to ``display()``, to
    ``folder/<cell prefix>-N.png``, and close them, as Jupyter's inline backend shows and
    closes them; a displayed one is reported once (``figure: PATH``). Return the paths (also
    recorded for :func:`take_written`)."""
    from ..utils.io import atomic_path

    pending = list(_shown)
    _shown.clear()
    _last_shown.clear()
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt

        pyplot_figures = [plt.figure(num) for num in plt.get_fignums()]
    else:
        plt, pyplot_figures = None, []
    paths = []
    try:  # a figure that fails to save is closed all the same: the next cell starts clean
        for k, fig in enumerate(pyplot_figures + [f for f in pending if f not in pyplot_figures],
                                1):
            path = Path(folder or out_dir()) / f"{_cell['prefix'] or 'figure'}-{k}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as tmp:
                # bbox "tight", as Jupyter's inline backend shows it (titles above small axes)
                fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
            paths.append(wrote(path))
            if fig in pending:
                print(f"figure: {path}", flush=True)
    finally:
        if plt is not None:
            plt.close("all")
    return paths
