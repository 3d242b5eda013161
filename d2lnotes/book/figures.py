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


def out_dir():
    """Where the book's figures are written: ``$D2LNOTES_BOOK_OUT``, else d2lnotes-out/book."""
    return Path(os.environ.get("D2LNOTES_BOOK_OUT") or Path("d2lnotes-out") / "book")


def in_notebook():
    """True inside a Jupyter kernel (where figures are shown, not written)."""
    from ..utils.plot import in_notebook as plot_in_notebook  # matplotlib only when asked

    return plot_in_notebook()


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
    """Save every terminal figure with unsaved points under its own name; return the paths."""
    paths = [figure.save() for figure in unsaved()]
    return [p for p in paths if p]


def save_pyplot(folder=None):
    """Write every open pyplot figure to ``folder/<cell prefix>-N.png`` and close it, as
    Jupyter's inline backend shows and closes it; return the paths."""
    if "matplotlib.pyplot" not in sys.modules:
        return []
    import matplotlib.pyplot as plt

    from ..utils.io import atomic_path

    paths = []
    for k, num in enumerate(plt.get_fignums(), 1):
        path = Path(folder or out_dir()) / f"{_cell['prefix'] or 'figure'}-{k}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            # bbox "tight", as Jupyter's inline backend shows it (titles above small axes)
            plt.figure(num).savefig(tmp, format="png", dpi=120, bbox_inches="tight")
        paths.append(path)
    plt.close("all")
    return paths
