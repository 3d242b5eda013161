"""Figures: every function returns a matplotlib ``Figure`` and can save it as a PNG.

Figures are built with ``matplotlib.figure.Figure`` directly, not ``pyplot``: nothing
opens a window, nothing blocks, no global settings change, and figures are freed when
dropped. In Jupyter a returned figure shows inline (it has ``_repr_png_``).
"""

import io
from pathlib import Path

from matplotlib.figure import Figure as _Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from .io import atomic_path, writes_in_place


class Figure(_Figure):
    """A matplotlib Figure that Jupyter displays inline even if pyplot was never imported."""

    def _repr_png_(self):
        buf = io.BytesIO()
        self.savefig(buf, format="png")
        return buf.getvalue()


def new_figure(nrows=1, ncols=1, figsize=(5, 3.5), **kwargs):
    """Return ``(fig, axes)`` like ``plt.subplots``, without pyplot."""
    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kwargs)
    return fig, (axes[0, 0] if nrows == ncols == 1 else axes)


def save(fig, path, dpi=120):
    """Write ``fig`` to ``path`` as a PNG, atomically, creating its folder; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        if writes_in_place(tmp):  # a FIFO or a device: the PNG writer cannot seek there
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=dpi)
            Path(tmp).write_bytes(buf.getvalue())
        else:
            fig.savefig(tmp, format="png", dpi=dpi)
    return path


def log_ticks(ax, axis="y"):
    """Label a log axis at 1, 2 and 5 times each power of ten, as plain numbers (0.2, 5, 100)."""
    a = ax.yaxis if axis == "y" else ax.xaxis
    a.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    a.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    a.set_minor_formatter(NullFormatter())


def _as_series(X, Y):
    """Normalise the book's ``plot(X, Y)`` arguments to lists of (x, y) pairs."""
    def is_1d(a):
        return hasattr(a, "ndim") and a.ndim == 1 or (
            isinstance(a, list) and (not a or not hasattr(a[0], "__len__")))

    if Y is None:
        X, Y = None, X
    Y = [Y] if is_1d(Y) else list(Y)
    if X is None:
        X = [list(range(1, len(y) + 1)) for y in Y]
    elif is_1d(X):
        X = [X] * len(Y)
    return [(x, y) for x, y in zip(X, Y)]


def plot(X, Y=None, xlabel=None, ylabel=None, legend=(), xlim=None, ylim=None,
         xscale="linear", yscale="linear", fmts=("-", "m--", "g-.", "r:"), figsize=(5, 3.5),
         title=None, path=None):
    """Plot one or more curves (the book's ``d2l.plot``, §2.4); return the Figure."""
    fig, ax = new_figure(figsize=figsize)
    for (x, y), fmt in zip(_as_series(X, Y), fmts * 10):
        ax.plot([float(v) for v in x], [float(v) for v in y], fmt)
    ax.set(xlabel=xlabel, ylabel=ylabel, xscale=xscale, yscale=yscale, title=title)
    if xlim:
        ax.set_xlim(xlim)
    if ylim:
        ax.set_ylim(ylim)
    if legend:
        ax.legend(legend)
    ax.grid(True, alpha=0.3)
    if path:
        save(fig, path)
    return fig


def plot_history(histories, title=None, path=None, logy=False, test_label="test", overlay=True):
    """Overlay the training curves of several runs (e.g. scratch and concise); return the Figure.

    ``histories`` maps a name to a :class:`~d2lnotes.utils.train.History`, or is one
    History. The left panel shows losses, the right one accuracies (when there are any).
    Runs differ by line style. ``test_label`` names the held-out curves (e.g. "validation").
    ``overlay`` draws the first run as a wide pale band that the others should lie in (for
    versions that are the same model); ``overlay=False`` draws every run as a plain line.
    """
    histories = {"": histories} if hasattr(histories, "train_loss") else dict(histories)
    has_acc = any(h.train_acc or h.test_acc for h in histories.values())
    fig, axes = new_figure(1, 2 if has_acc else 1, figsize=(10 if has_acc else 5.5, 3.8))
    axes = list(axes.flat) if has_acc else [axes]
    # The first run is drawn wide and pale, the others thin and dashed on top, so that
    # curves which coincide (scratch == concise) stay visible as a line inside a band.
    styles = [dict(linestyle="-", linewidth=5, alpha=0.35), dict(linestyle="--", linewidth=1.6),
              dict(linestyle=":", linewidth=1.6), dict(linestyle="-.", linewidth=1.6)]
    if len(histories) == 1 or not overlay:
        styles = [dict(linestyle="-", linewidth=1.6)] + styles[1:]
    panels = [("loss", "train_loss", "test_loss"), ("accuracy", "train_acc", "test_acc")]
    for ax, (label, train_key, test_key) in zip(axes, panels):
        for (name, h), style in zip(histories.items(), styles * 10):
            for key, color, what in ((train_key, "tab:blue", "train"),
                                     (test_key, "tab:orange", test_label)):
                values = getattr(h, key)
                if values:
                    # a lone point (the first epoch of a live plot) needs a marker to be seen
                    ax.plot(range(1, len(values) + 1), values, color=color,
                            label=f"{name} {what}".strip(),
                            marker="o" if len(values) == 1 else None, **style)
        ax.set(xlabel="epoch", ylabel=label)
        # min_n_ticks=1: one epoch is the single tick 1, not 0.95, 0.975, ... around it
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        if label == "loss" and logy:
            ax.set_yscale("log")
            log_ticks(ax)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    if path:
        save(fig, path)
    return fig


def show_images(imgs, num_rows, num_cols, titles=None, scale=1.5, path=None, row_titles=None):
    """Show a grid of images with optional titles (the book's ``show_images``, §3.5).

    ``row_titles`` puts a heading above each row (e.g. "first six test images").
    """
    figsize = (num_cols * scale, num_rows * scale * (1.35 if row_titles else 1.2))
    if row_titles:
        fig = Figure(figsize=figsize, layout="constrained")
        axes = []
        for subfig, row_title in zip(fig.subfigures(num_rows, 1), row_titles):
            axes += list(subfig.subplots(1, num_cols, squeeze=False).flat)
            subfig.suptitle(row_title, fontsize=10, fontweight="bold")
    else:
        fig, axes = new_figure(num_rows, num_cols, figsize=figsize)
        axes = list(axes.flat) if hasattr(axes, "flat") else [axes]
    for ax in axes:
        ax.set_axis_off()
    for i, (ax, img) in enumerate(zip(axes, imgs)):
        img = img.detach().cpu().numpy() if hasattr(img, "detach") else img
        ax.imshow(img.squeeze(), cmap="gray_r")
        if titles:
            ax.set_title(titles[i], fontsize=8)
    if path:
        save(fig, path)
    return fig


def display_in_place(fig, handle=None):
    """Show ``fig`` in Jupyter in place of the drawing behind ``handle`` (a new one if None);
    return the handle, so that the next call redraws there instead of appending a picture."""
    from IPython.display import display

    if handle is None:
        return display(fig, display_id=True)
    handle.update(fig)
    return handle


def in_notebook():
    """True inside a Jupyter kernel (the test tqdm.auto uses); IPython is never imported here."""
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython else None
    return shell is not None and "IPKernelApp" in shell.config


class LivePlot:
    """Training curves as they come: redrawn in place after every epoch in Jupyter, and in
    a terminal recorded quietly and written as a PNG by :meth:`close`.

    Pass it as ``callback=``: ``train`` calls ``live(history)``; ``train.compare`` and
    the chapter comparisons call ``live(name, history)``, so all versions share one figure
    (:func:`plot_history`)::

        with LivePlot(path="curves.png") as live:
            ch3.compare_softmax_regression(num_epochs=10, callback=live)
    """

    def __init__(self, title=None, path=None, logy=False, name="", notebook=None):
        self.title, self.path, self.logy, self.name = title, path, logy, name
        self.notebook = in_notebook() if notebook is None else notebook
        self.histories = {}
        self._names = {}  # id(history) -> name, for runs passed without a name
        self._handle = None

    def __call__(self, *args):
        if len(args) == 2:
            name, history = args
        else:
            (history,) = args
            if id(history) not in self._names:
                n = len(self._names)
                # unnamed runs: "train"/"test" for the first, "run 2 train", ... after it
                self._names[id(history)] = (self.name if n == 0 else
                                            f"{self.name or 'run'} {n + 1}")
            name = self._names[id(history)]
        # The loop appends to the same History every epoch, so keeping it is keeping up.
        self.histories[name] = history
        if self.notebook:
            self._redraw()

    def figure(self):
        """The curves so far, as a new Figure."""
        return plot_history(self.histories, title=self.title, logy=self.logy)

    def _redraw(self):
        self._handle = display_in_place(self.figure(), self._handle)

    def close(self):
        """Write the final figure to ``path`` (if one was given); return that path or None."""
        if not (self.path and self.histories):
            return None
        return save(self.figure(), self.path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
