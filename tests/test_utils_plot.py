"""``utils.plot``: sweeps a reader can tell apart, read back from the matplotlib artists."""

import subprocess
import sys

import pytest
import torch

from d2lnotes.utils import plot
from d2lnotes.utils.train import Comparison, History


def _history(seed, n=4, acc=True):
    g = torch.Generator().manual_seed(seed)
    v = (torch.rand(4, n, generator=g) * 0.5 + 0.1).tolist()
    return History(train_loss=v[0], test_loss=v[1], train_acc=v[2] if acc else [],
                   test_acc=v[3] if acc else [])


@pytest.mark.parametrize("overlay", [True, False])
def test_five_runs_get_five_colours_and_a_line_style_per_split(overlay):
    runs = {f"lambda = {lambd}": _history(i) for i, lambd in enumerate((0, 1, 3, 10, 30))}
    fig = plot.plot_history(runs, overlay=overlay)
    for ax in fig.axes:
        lines = ax.get_lines()
        assert len(lines) == 10
        styles = {(line.get_label(), line.get_color(), line.get_linestyle()) for line in lines}
        assert len({(color, style) for _, color, style in styles}) == 10  # all distinguishable
        for name in runs:
            train, test = (next(x for x in styles if x[0] == f"{name} {what}")
                           for what in ("train", "test"))
            assert train[1] == test[1]                      # one colour per run
            assert (train[2], test[2]) == ("-", "--")       # one style per split
        assert len({color for _, color, _ in styles}) == 5


def test_a_lone_run_and_twins_keep_a_colour_per_split():
    fig = plot.plot_history(_history(0))
    colors = {line.get_label(): line.get_color() for line in fig.axes[0].get_lines()}
    assert colors["train"] != colors["test"]
    # scratch and concise lie on one curve: the band tells them apart, the colour the split
    fig = plot.plot_history({"scratch": _history(0), "concise": _history(1)})
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert lines["scratch train"].get_color() == lines["concise train"].get_color()
    assert lines["scratch train"].get_color() != lines["scratch test"].get_color()
    assert lines["scratch train"].get_linewidth() > lines["concise train"].get_linewidth()
    # one epoch: a point per split, told apart by its marker
    fig = plot.plot_history({"a": _history(0, n=1), "b": _history(1, n=1)}, overlay=False)
    assert {line.get_marker() for line in fig.axes[0].get_lines()} == {"o", "s"}


def _comparison(lambd):
    histories = {"scratch": _history(lambd, acc=False), "concise": _history(lambd, acc=False)}
    return Comparison(histories, {}, 0.0, {"w_norm": {"scratch": 13 / (1 + lambd),
                                                      "concise": 13 / (1 + lambd)},
                                           "param_diff_per_epoch": [0.0] * 4})


def test_sweep_draws_the_test_loss_and_the_norm_against_lambda():
    runs = {lambd: _comparison(lambd) for lambd in (0, 1, 3, 10, 30)}
    fig = plot.plot_sweep(runs, "lambda")
    assert [ax.get_ylabel() for ax in fig.axes] == ["test loss", "w norm"]
    loss, norm = fig.axes
    for ax in fig.axes:
        assert [line.get_label() for line in ax.get_lines()] == ["scratch", "concise"]
        assert all(list(line.get_xdata()) == list(runs) for line in ax.get_lines())
    assert list(loss.get_lines()[0].get_ydata()) == [
        runs[lambd].histories["scratch"].test_loss[-1] for lambd in runs]
    assert list(norm.get_lines()[1].get_ydata()) == [13 / (1 + lambd) for lambd in runs]
    # the two versions coincide: their markers differ so that both stay visible
    assert norm.get_lines()[0].get_marker() != norm.get_lines()[1].get_marker()


def test_sweep_of_classifiers_draws_accuracy_and_takes_plain_numbers():
    runs = {p: Comparison({"scratch": _history(int(10 * p))}, {}) for p in (0.0, 0.2, 0.5)}
    (ax,) = plot.plot_sweep(runs, "dropout").axes
    assert ax.get_ylabel() == "test acc" and ax.get_xlabel() == "dropout"
    (ax,) = plot.plot_sweep({1: {"acc": 0.5}, 2: {"acc": 0.7}}, "lr", logx=True).axes
    assert list(ax.get_lines()[0].get_ydata()) == [0.5, 0.7] and ax.get_xscale() == "symlog"


def test_an_empty_sweep_is_refused():
    with pytest.raises(ValueError, match="no runs"):
        plot.plot_sweep({})

# --- figures -------------------------------------------------------------------------------------


@pytest.mark.parametrize("epochs, ticks", [(1, [1]), (2, [1, 2]), (30, list(range(0, 29, 4)))])
def test_epoch_ticks_are_whole_numbers(epochs, ticks):
    # One epoch is the tick 1 alone, not 0.945, 0.96, ... around the lone point.
    h = History(train_loss=[1.0] * epochs, train_acc=[0.5] * epochs)
    for ax in plot.plot_history(h).axes:
        lo, hi = ax.get_xlim()
        assert [t for t in ax.get_xticks() if lo <= t <= hi] == ticks


def test_plots_return_figures_and_write_pngs(tmp_path):
    h = History(train_loss=[1.0, 0.5], train_acc=[0.5, 0.7], test_loss=[1.1, 0.6],
                test_acc=[0.4, 0.6])
    figs = [plot.plot_history({"scratch": h, "concise": h}, path=tmp_path / "h.png"),
            plot.plot([1, 2, 3], [[1, 4, 9], [1, 2, 3]], legend=["a", "b"],
                      path=tmp_path / "p.png"),
            plot.show_images(torch.rand(4, 28, 28), 2, 2, titles=list("abcd"),
                             path=tmp_path / "i.png")]
    for fig in figs:
        assert isinstance(fig, plot.Figure)
        assert fig._repr_png_().startswith(b"\x89PNG")
    for name in ("h.png", "p.png", "i.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG")
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.slow
def test_importing_the_package_leaves_pyplot_and_rcparams_alone():
    # dict.items, because reading rcParams['backend'] would itself import pyplot.
    code = ("import matplotlib; before = dict(dict.items(matplotlib.rcParams)); "
            "import d2lnotes.utils.plot, d2lnotes.ch3, sys; "
            "assert 'matplotlib.pyplot' not in sys.modules; "
            "assert dict(dict.items(matplotlib.rcParams)) == before")
    subprocess.run([sys.executable, "-c", code], check=True)





