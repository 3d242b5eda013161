"""What the pictures show: properties of the Figures, read back from matplotlib."""

import torch
from matplotlib.collections import PolyCollection

from d2lnotes.ch4 import report
from d2lnotes.utils import plot
from d2lnotes.utils.train import Comparison, History


def _history(seed, n=5):
    g = torch.Generator().manual_seed(seed)
    v = (torch.rand(4, n, generator=g) * 0.5 + 0.1).tolist()
    return History(train_loss=v[0], test_loss=v[1], train_acc=v[2], test_acc=v[3])


def _plain(text):
    return text and "$" not in text  # no mathtext like 10^{-1}


def test_log_ticks_are_plain_numbers_at_1_2_5():
    fig, ax = plot.new_figure()
    ax.plot([1, 2, 3], [0.01, 1, 50])
    ax.set_yscale("log")
    plot.log_ticks(ax)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert {"0.01", "0.1", "1", "2", "5", "10"} <= set(labels)
    assert all(_plain(t) for t in labels)


def test_row_titles_head_each_row():
    fig = plot.show_images(torch.rand(12, 28, 28), 2, 6, titles=[str(i) for i in range(12)],
                           row_titles=["first six test images", "six mistakes"])
    assert [f._suptitle.get_text() for f in fig.subfigs] == ["first six test images",
                                                             "six mistakes"]
    assert [len(f.axes) for f in fig.subfigs] == [6, 6]


def test_plain_runs_have_no_band():
    runs = {"scratch": _history(0), "concise": _history(1)}
    widths = {True: [], False: []}
    for overlay in widths:
        fig = plot.plot_history(runs, overlay=overlay)
        widths[overlay] = [line.get_linewidth() for ax in fig.axes for line in ax.get_lines()]
    assert max(widths[True]) >= 4 and max(widths[False]) < 2  # the band is the wide line


def test_dropout_draws_its_two_runs_plainly(tmp_path, monkeypatch):
    drawn = {}
    runs = {"scratch": _history(0), "concise": _history(1)}
    monkeypatch.setattr(report.ex, "compare_dropout",
                        lambda *a, **k: Comparison(runs, {}))
    monkeypatch.setattr(plot, "plot_history", lambda h, **kw: drawn.update(kw))
    run = report.Run(out=tmp_path, epochs=1, _fashion=("train", "test"))
    report.dropout(run, lambda *a: None)
    assert drawn["overlay"] is False and "band" not in drawn["title"]


def test_kfold_figure_is_a_mean_in_a_min_max_band():
    folds = [_history(i, n=8) for i in range(5)]
    fig = report.kfold_figure(folds, 0.17)
    (ax,) = fig.axes
    assert len(ax.get_lines()) == 2  # train mean and valid mean, not 10 curves
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2
    mean = ax.get_lines()[0].get_ydata()
    train = torch.tensor([h.train_loss for h in folds])
    assert torch.allclose(torch.as_tensor(mean, dtype=train.dtype), train.mean(0))
    # the band spans min..max: its vertices reach both extremes
    ys = bands[0].get_paths()[0].vertices[:, 1]
    assert abs(ys.min() - float(train.min())) < 1e-6 and abs(ys.max() - float(train.max())) < 1e-6
    fig.canvas.draw()
    assert all(_plain(t.get_text()) for t in ax.get_yticklabels() if t.get_text())
