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
    Each split has its line style (train solid, test dashed) and each run its colour, so
    ten runs stay apart. ``test_label`` names the held-out curves (e.g. "validation").
    ``overlay`` draws the first run as a wide pale band that the others should lie in (for
    versions that are the same model); ``overlay=False`` draws every run as a plain line.
    A lone run, and twins (two runs with ``overlay``, told apart by the band), keep blue
    for train and orange for test.
    """
    histories = {"": histories} if hasattr(histories, "train_loss") else dict(histories)
    has_acc = any(h.train_acc or h.test_acc for h in histories.values())
    fig, axes = new_figure(1, 2 if has_acc else 1, figsize=(10 if has_acc else 5.5, 3.8))
    axes = list(axes.flat) if has_acc else [axes]
    panels = [("loss", "train_loss", "test_loss"), ("accuracy", "train_acc", "test_acc")]
    color_per_split = len(histories) == 1 or (overlay and len(histories) == 2)
    for ax, (label, train_key, test_key) in zip(axes, panels):
        for i, (name, h) in enumerate(histories.items()):
            # The first run is drawn wide and pale, the others thin on top, so that curves
            # which coincide (scratch == concise) stay visible as a line inside a band.
            width = dict(linewidth=5, alpha=0.35) if i == 0 and overlay and len(
                histories) > 1 else dict(linewidth=1.6)
            for key, style, marker, what in ((train_key, "-", "o", "train"),
                                             (test_key, "--", "s", test_label)):
                values = getattr(h, key)
                if values:
                    color = f"C{i % 10}" if not color_per_split else (
                        "tab:blue" if what == "train" else "tab:orange")
                    # a lone point (the first epoch of a live plot) needs a marker to be seen
                    ax.plot(range(1, len(values) + 1), values, color=color, linestyle=style,
                            label=f"{name} {what}".strip(),
                            marker=marker if len(values) == 1 else None, **width)
        ax.set(xlabel="epoch", ylabel=label)
        # min_n_ticks=1: one epoch is the single tick 1, not 0.95, 0.975, ... around it
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        if label == "loss" and logy:
            ax.set_yscale("log")
            log_ticks(ax)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, ncol=2 if len(histories) > 2 else 1)
    if title:
        fig.suptitle(title)
    if path:
        save(fig, path)
    return fig


def _final(run, name):
    """``{version: value}`` of ``name`` at the end of ``run`` (see :func:`plot_sweep`)."""
    if hasattr(run, "histories"):  # a Comparison: one value per version
        if name in run.extra:
            return dict(run.extra[name])
        return {v: getattr(h, name)[-1] for v, h in run.histories.items()}
    if hasattr(run, "train_loss"):  # a History
        return {"": getattr(run, name)[-1]}
    return {"": run[name]}


def _sweep_results(run):
    """What :func:`plot_sweep` draws by default: the test accuracy, else the test loss, and
    every number a Comparison's ``extra`` holds per version (``w_norm``)."""
    histories = run.histories.values() if hasattr(run, "histories") else [run]
    h = next(iter(histories))
    if not hasattr(h, "test_acc"):
        return list(run)
    names = ["test_acc" if h.test_acc else "test_loss"]
    extra = getattr(run, "extra", {})
    return names + [k for k, v in extra.items() if isinstance(v, dict)
                    and all(isinstance(x, (int, float)) for x in v.values())]


SWEEP_STYLES = ("-o", "--s", "-.^", ":v")  # one per version, so that coinciding lines show


def plot_sweep(runs, xlabel="setting", results=None, title=None, path=None, logx=False,
               logy=False):
    """Each final result against the swept setting, one panel per result; return the Figure.

    ``runs`` maps a setting (lambda, a dropout rate) to a Comparison (one line per
    version), a History, or a dict of numbers. ``results`` names what to draw: History
    fields (``"test_loss"``, ``"test_acc"``), keys of ``Comparison.extra`` (``"w_norm"``)
    or of the dicts; by default the test accuracy (else the test loss) and the numbers in
    ``extra``. ``logx`` uses a symmetric log scale, which keeps a setting of 0. E.g.::

        plot_sweep(ch4.weight_decay(lambdas=(0, 1, 3, 10, 30)), "lambda")  # test loss, ||w||
    """
    runs = dict(runs)
    if not runs:
        raise ValueError("plot_sweep: no runs to draw")
    settings = list(runs)
    results = list(results or _sweep_results(runs[settings[0]]))
    fig, axes = new_figure(1, len(results), figsize=(4.5 * len(results), 3.5))
    axes = list(axes.flat) if len(results) > 1 else [axes]
    for ax, name in zip(axes, results):
        finals = [_final(runs[x], name) for x in settings]
        for i, version in enumerate(finals[0]):
            # the first version wide and pale, as in plot_history: twins that coincide show
            wide = dict(linewidth=4, alpha=0.4, markersize=9) if i == 0 and len(
                finals[0]) > 1 else dict(markersize=5)
            ax.plot(settings, [f[version] for f in finals], SWEEP_STYLES[i % len(SWEEP_STYLES)],
                    color=f"C{i % 10}", label=version or None, **wide)
        label = name.replace("_", " ")
        ax.set(xlabel=xlabel, ylabel=label, title=f"{label} against {xlabel}")
        if logx:
            ax.set_xscale("symlog", linthresh=min((abs(x) for x in settings if x), default=1))
        if logy:
            ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        if any(finals[0]):
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
