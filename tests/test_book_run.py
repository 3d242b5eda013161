"""``python -m d2lnotes book`` (book/run.py): the runner against the book's own cells and hostile
ones; and what the redirect serves while it is active (book/fashion.py).

Cells are our own book-style code. Most runs are in this process (``run_file``); the ones
about signals, exit statuses and a fresh process's imports start ``python -m d2lnotes book``.
"""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from booktools import headless, run_book  # noqa: F401 (headless: autouse)

from d2lnotes.book import fashion, redirect
from d2lnotes.book import run as book_run
from d2lnotes.utils.data import FASHION_MNIST_FILES, system_dirs

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"






def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- torchvision's FashionMNIST(download=True), offline (book/fashion.py) ----------------------

# The classic §3.5's cells, in our own words: torchvision builds the dataset under ../data.
SECTION_3_5 = """\
# %%
%matplotlib inline
import torch
import torchvision
from torch.utils import data
from torchvision import transforms
from d2l import torch as d2l

d2l.use_svg_display()
# %%
trans = transforms.ToTensor()
mnist_train = torchvision.datasets.FashionMNIST(
    root="../data", train=True, transform=trans, download=True)
mnist_test = torchvision.datasets.FashionMNIST(
    root="../data", train=False, transform=trans, download=True)
print("sizes:", len(mnist_train), len(mnist_test), tuple(mnist_train[0][0].shape))
# %%
X, y = next(iter(data.DataLoader(mnist_train, batch_size=18)))
d2l.show_images(X.reshape(18, 28, 28), 2, 9, titles=d2l.get_fashion_mnist_labels(y));
# %%
batch_size = 256
train_iter = data.DataLoader(mnist_train, batch_size, shuffle=True, num_workers=0)
timer = d2l.Timer()
for k, (X, y) in enumerate(train_iter):
    if k == 3:
        break
print("batch:", tuple(X.shape), y.dtype)
"""


@pytest.mark.slow  # reads the whole of Fashion-MNIST through torchvision
def test_the_classic_3_5_cells_find_fashion_mnist_offline_under_the_runner(
        tmp_path, monkeypatch, capsys, fashion_mnist_raw):
    import torchvision.datasets.mnist as tv_mnist

    def no_network(url, *args, **kwargs):
        raise AssertionError(f"torchvision tried to download {url}")

    monkeypatch.setattr(tv_mnist, "download_and_extract_archive", no_network)
    # Only the Debian package: an empty data folder, which d2lnotes imports the copy into.
    # (Without the package, d2lnotes' own verified folder is the copy it holds.)
    has_system_copy = any((d / "t10k-labels-idx1-ubyte.gz").is_file() for d in system_dirs())
    data = tmp_path / "d2ldata" if has_system_copy else fashion_mnist_raw.parents[1]
    monkeypatch.setenv("D2LNOTES_DATA", str(data))
    script = _write(tmp_path / "chapter3" / "image_classification_dataset.py", SECTION_3_5)
    out = tmp_path / "out"

    results = book_run.run_file(script, out)
    captured = capsys.readouterr()
    assert [r.error for r in results] == [None] * 4, captured.out
    assert "sizes: 60000 10000 (1, 28, 28)" in captured.out
    assert "batch: (256, 1, 28, 28) torch.int64" in captured.out
    raw = tmp_path / "data" / "FashionMNIST" / "raw"
    placed = [line for line in captured.err.splitlines() if str(raw) in line]
    assert placed == [f"d2lnotes: linked Fashion-MNIST's 4 missing files from "
                      f"{(data / 'FashionMNIST' / 'raw').resolve()} into {raw}, so torchvision "
                      "need not download them"]
    for name in FASHION_MNIST_FILES:  # hard links: no second 55 MB on disk
        assert (raw / name).samefile(data / "FashionMNIST" / "raw" / name)
    assert [p.name for p in results[2].figures] == ["image_classification_dataset-cell03-1.png"]


@pytest.mark.slow  # imports torchvision
def test_fashion_mnist_download_is_torchvisions_own_outside_the_redirect():
    import torchvision.datasets.mnist as tv_mnist

    own = tv_mnist.FashionMNIST.download
    with redirect():
        assert tv_mnist.FashionMNIST.download is fashion._download
        with redirect():  # nested: still served, and still after the inner one ends
            pass
        assert tv_mnist.FashionMNIST.download is fashion._download
    assert tv_mnist.FashionMNIST.download is own
    assert "download" not in tv_mnist.FashionMNIST.__dict__  # inherited from MNIST again


@pytest.mark.slow  # imports torchvision
def test_fashion_mnist_imported_after_the_redirect_starts_is_served_too(monkeypatch):
    import torchvision.datasets

    old = sys.modules.pop(fashion.MODULE)
    try:
        with redirect():
            fresh = importlib.import_module(fashion.MODULE)
            assert fresh is not old and fresh.FashionMNIST.download is fashion._download
        assert "download" not in fresh.FashionMNIST.__dict__
        assert fashion._finder not in sys.meta_path
    finally:
        sys.modules[fashion.MODULE] = old
        torchvision.datasets.mnist = old


def test_place_verified_copy_copies_across_file_systems_and_leaves_present_files(
        tmp_path, monkeypatch, fashion_mnist_raw, capsys):
    monkeypatch.setenv("D2LNOTES_DATA", str(fashion_mnist_raw.parents[1]))
    raw = tmp_path / "data" / "FashionMNIST" / "raw"
    _write(raw / "t10k-labels-idx1-ubyte", "the user's own file")

    def no_links(src, dst):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_links)
    placed = fashion.place_verified_copy(raw)
    assert sorted(placed) == sorted(set(FASHION_MNIST_FILES) - {"t10k-labels-idx1-ubyte"})
    assert (raw / "t10k-labels-idx1-ubyte").read_text() == "the user's own file"
    assert (raw / "train-labels-idx1-ubyte").read_bytes() == (
        fashion_mnist_raw / "train-labels-idx1-ubyte").read_bytes()
    assert "d2lnotes: copied Fashion-MNIST's 3 missing files" in capsys.readouterr().err
    assert fashion.place_verified_copy(raw) == []  # nothing missing: nothing said


def test_without_a_verified_copy_torchvision_is_left_to_download(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("D2LNOTES_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("D2LNOTES_SYSTEM_DATA", "")
    assert fashion.place_verified_copy(tmp_path / "data" / "FashionMNIST" / "raw") == []
    assert not (tmp_path / "data").exists()


# --- --timeout and stop signals hold against a cell that catches everything -------------------

# SIGALRM ignored too: nothing raised again can land outside the try, so the grace period is
# what ends it
CATCH_ALL = """\
import signal
import time
signal.signal(signal.SIGALRM, signal.SIG_IGN)
print('started', flush=True)
while True:
    try:
        while True:
            time.sleep(0.05)
    except BaseException:
        pass
"""


@pytest.mark.slow
def test_timeout_holds_against_except_exception_and_a_disarmed_timer(tmp_path):
    first = _write(tmp_path / "a" / "nb.py", (
        "# %%\nimport time\nwhile True:\n    try:\n        time.sleep(0.05)\n"
        "    except Exception:\n        pass\n"
        "# %%\nimport signal\nsignal.setitimer(signal.ITIMER_REAL, 0)\nwhile True:\n"
        "    time.sleep(0.05)\n"
        "# %%\ntry:\n    time.sleep(5)\nexcept BaseException:\n    print('caught it')\n"
        "# %%\nprint('next cell ran')\n"))
    stuck = _write(tmp_path / "b" / "stuck.py", "# %%\n" + CATCH_ALL + "# %%\nprint('never')\n")
    result = run_book(first, stuck, "--out", tmp_path / "out", "--timeout", "1", timeout=60)
    assert "cell 1/4 (line 2): FAILED" in result.stdout
    assert "cell 2/4 (line 9): FAILED" in result.stdout
    # caught and ended late: still the timeout's failure
    assert "caught it" in result.stdout and "cell 3/4 (line 14): FAILED" in result.stdout
    assert result.stdout.count("CellTimeout: the cell ran past --timeout 1 s") == 3
    assert "next cell ran" in result.stdout and "never" not in result.stdout
    # a cell that catches every exception ends the run, naming itself
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: {stuck}: cell 1 (line 2) ran past --timeout 1 s and did not stop within "
        f"{book_run.GRACE_S:g} s; the run ends here"]


STOPS = {"SIGTERM": (["SIGTERM"], 143, "stopped by SIGTERM"),
         "SIGHUP": (["SIGHUP"], 129, "stopped by SIGHUP"),
         "second Ctrl-C": (["SIGINT", "SIGINT"], 130, "interrupted")}


@pytest.mark.slow
def test_a_stop_signal_ends_a_cell_that_catches_everything(tmp_path):
    import signal
    import time

    # the three runs go at once: each spends most of its time importing, then 2 s of grace
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    runs = {}
    for i, how in enumerate(STOPS):
        script = _write(tmp_path / str(i) / "nb.py", "# %%\n" + CATCH_ALL)
        runs[how] = script, subprocess.Popen(
            [sys.executable, "-m", "d2lnotes", "book", str(script), "--out",
             str(tmp_path / str(i) / "out")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=env, cwd=ROOT)
    try:
        for how, (_, proc) in runs.items():
            assert proc.stdout.readline() == "started\n", how
        time.sleep(0.5)  # into the loop
        for how, (_, proc) in runs.items():
            for sig in STOPS[how][0]:
                proc.send_signal(getattr(signal, sig))
                time.sleep(0.3)
        done = {how: proc.communicate(timeout=30) for how, (_, proc) in runs.items()}
    finally:
        for _, proc in runs.values():
            proc.kill()
    for how, (script, proc) in runs.items():
        _, status, name = STOPS[how]
        assert proc.returncode == status, how
        assert done[how][1].splitlines()[-1] == (
            f"error: {script}: cell 1 (line 2) was {name} and did not stop within "
            f"{book_run.GRACE_S:g} s; the run ends here")


@pytest.mark.parametrize("value", ["1e-7", "1e308", "0", "nan"])
def test_a_timeout_out_of_range_is_one_line(tmp_path, value, capsys):
    from d2lnotes.__main__ import main

    script = _write(tmp_path / "nb.py", "print('ran')\n")
    with pytest.raises(SystemExit) as info:
        main(["book", str(script), "--timeout", value])
    assert info.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: argument --timeout: must be ")


# --- the figure registry (book/figures.py) ---------------------------------------------------


def test_one_registry_names_and_collects_both_editions_unsaved_figures(tmp_path, capsys):
    from d2lnotes import d2l
    from d2lnotes.book import figures

    out = Path(os.environ["D2LNOTES_BOOK_OUT"])
    figures.take_written()
    figures.set_cell("nb-cell03")
    try:
        animator = d2l.Animator(xlabel="epoch", xlim=[1, 5], legend=["loss"])
        animator.add(1, 0.5)
        board = d2l.ProgressBoard(xlabel="x")
        board.draw(0, 1.0, "y")
        assert figures.unsaved() == [animator, board]
        paths = figures.save_unsaved()
    finally:
        figures.set_cell(None)
    assert paths[0] == out / f"nb-cell03-animator-{animator.number}.png"
    assert paths[1].parent == out and paths[1].name.startswith("nb-cell03-board-")
    assert all(p.read_bytes().startswith(PNG) for p in paths)
    assert figures.take_written() == paths and figures.take_written() == []
    assert figures.unsaved() == [] and figures.save_unsaved() == []
    assert figures.png_path("animator", 7) == out / "animator-7.png"  # outside a cell


# --- the book's 1.0 source cells, display(), the book's own Animator, cell numbers ------------

SOURCE_1_0 = """\
%load_ext d2lnotes.book
from d2l import torch as d2l
# %%
%%tab pytorch
x = d2l.tensor([1.0, 2.0])
# %%
%%tab mxnet, tensorflow
x = None
# %%
if tab.selected('pytorch'):
    print('{name}:', x.tolist())
"""


def test_two_files_of_1_0_source_cells_each_get_tab(tmp_path, capsys):
    from d2lnotes.__main__ import main

    first = _write(tmp_path / "a" / "first.py", SOURCE_1_0.format(name="first"))
    second = _write(tmp_path / "b" / "second.py", SOURCE_1_0.format(name="second"))
    forgot = _write(tmp_path / "c" / "forgot.py", SOURCE_1_0.split("# %%\n", 1)[1])
    assert main(["book", str(first), str(second), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "first: [1.0, 2.0]" in out and "second: [1.0, 2.0]" in out
    assert "d2l" not in sys.modules and "d2lbook" not in sys.modules  # all undone after
    assert main(["book", str(forgot), "--out", str(tmp_path / "out")]) == 1
    captured = capsys.readouterr()
    assert "NameError: name 'tab' is not defined" in captured.out
    assert "hint: the 1.0 edition's source cells use tab.selected(...) and %%tab: start the " \
           "file with '%load_ext d2lnotes.book'" in captured.out


def test_cells_are_numbered_as_the_files_markers_number_them(tmp_path, capsys):
    commented = _write(tmp_path / "commented.py", (
        "# The book's section, as a script\n# (a leading comment block)\n\n"
        "# %% cell 1\nprint('one')\n# %% cell 2\n\n# %% cell 3\nprint('three')\n"))
    results = book_run.run_file(commented, tmp_path / "out")
    assert [(r.cell.number, r.cell.line) for r in results] == [(1, 5), (3, 9)]
    lines = [s for s in capsys.readouterr().out.splitlines() if s.startswith("cell ")]
    assert [s.split(":")[0] for s in lines] == ["cell 1/3 (line 5)", "cell 3/3 (line 9)"]
    leading = _write(tmp_path / "leading.py", "x = 1\n# %%\nprint(x)\n")
    assert [(c.number, c.line) for c in book_run.read_cells(leading)] == [(0, 1), (1, 3)]
    unmarked = _write(tmp_path / "unmarked.py", "x = 1\nprint(x)\n")
    assert [(c.number, c.line) for c in book_run.read_cells(unmarked)] == [(1, 1)]


OWN_ANIMATOR = """\
# %%
from IPython import display
from d2l import torch as d2l


class Animator:  # the book's own, as §3.6 writes one: display() and clear_output()
    def __init__(self, xlabel=None, legend=None):
        d2l.use_svg_display()
        self.fig, ax = d2l.plt.subplots(figsize=(3.5, 2.5))
        self.axes, self.xlabel, self.legend = [ax], xlabel, legend
        self.X, self.Y = None, None

    def add(self, x, y):
        if not self.X:
            self.X, self.Y = [[] for _ in y], [[] for _ in y]
        for i, b in enumerate(y):
            self.X[i].append(x)
            self.Y[i].append(b)
        self.axes[0].cla()
        for xs, ys in zip(self.X, self.Y):
            self.axes[0].plot(xs, ys)
        self.axes[0].set_xlabel(self.xlabel)
        self.axes[0].legend(self.legend)
        display.display(self.fig)
        display.clear_output(wait=True)
# %%
animator = Animator(xlabel='epoch', legend=['train loss', 'test acc'])
for epoch in range(1, 4):
    animator.add(epoch, (1 / epoch, 0.5 + epoch / 10))
"""


def test_the_books_own_animator_prints_its_numbers_and_its_figure_once(tmp_path, capsys):
    script = _write(tmp_path / "softmax.py", OWN_ANIMATOR)
    results = book_run.run_file(script, tmp_path / "out")
    out = capsys.readouterr().out
    assert [r.error for r in results] == [None, None]
    png = tmp_path / "out" / "softmax-cell02-1.png"
    assert results[1].figures == [png] and png.read_bytes().startswith(PNG)
    lines = [s for s in out.splitlines() if not s.startswith("cell ")]
    assert lines == ["epoch 1: train loss 1, test acc 0.6", "epoch 2: train loss 0.5, test acc 0.7",
                     "epoch 3: train loss 0.3333, test acc 0.8", f"figure: {png}"]
    assert "<Figure" not in out and "\x1b[" not in out


def test_a_figure_shown_with_display_is_saved_once_even_without_pyplot(tmp_path, capsys):
    script = _write(tmp_path / "shown.py", (
        "from IPython.display import display\nfrom d2lnotes.utils.plot import new_figure\n"
        "fig, ax = new_figure()\nax.plot([1, 2])\ndisplay(fig)\ndisplay(fig)\n"))
    (result,) = book_run.run_file(script, tmp_path / "out")
    out = capsys.readouterr().out
    png = tmp_path / "out" / "shown-cell01-1.png"
    assert result.figures == [png] and png.read_bytes().startswith(PNG)
    assert out.count(f"figure: {png}") == 1 and "<Figure" not in out


# --- what the runner reads: encodings, unreadable files, broken notebooks -------------------


@pytest.mark.parametrize("content, expect, line", [
    ("# -*- coding: latin-1 -*-\n# %%\nprint('caf\u00e9')\n".encode("latin-1"), "café", 3),
    # a BOM hides no marker after it
    ("\ufeff# %%\nprint('after a BOM')\n".encode("utf-8"), "after a BOM", 2),
])
def test_py_files_are_read_as_python_reads_them(tmp_path, content, expect, line):
    path = tmp_path / "nb.py"
    path.write_bytes(content)
    (cell,) = book_run.read_cells(path)
    assert (cell.number, cell.line, cell.source) == (1, line, f"print('{expect}')")


@pytest.mark.parametrize("content", [
    b"# %%\nprint('caf\xe9')\n",  # latin-1 bytes without a coding line: invalid UTF-8
    "# %%\nprint('x')\n".encode("utf-16"),
])
def test_undecodable_py_files_are_one_line(tmp_path, content, capsys):
    from d2lnotes.__main__ import main

    path = tmp_path / "nb.py"
    path.write_bytes(content)
    assert main(["book", str(path)]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: {path} is not readable as Python source (")
    assert line.endswith("save it as UTF-8, or declare its encoding in a "
                         "'# -*- coding: ... -*-' line")


def test_an_unreadable_py_file_is_one_line(tmp_path, monkeypatch, capsys):
    import tokenize

    from d2lnotes.__main__ import main

    path = _write(tmp_path / "nb.py", "print('x')\n")

    def denied(filename):
        raise PermissionError(13, "Permission denied", str(filename))

    monkeypatch.setattr(tokenize, "open", denied)  # root reads any file: simulate the refusal
    assert main(["book", str(path)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"error: cannot read {path}: Permission denied; check its permissions"]


@pytest.mark.parametrize("source", [5, None, {"a": 1}, ["x = 1\n", 2]])
def test_a_notebook_cell_whose_source_is_not_text_is_one_line(tmp_path, source, capsys):
    import json

    from d2lnotes.__main__ import main

    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [{"cell_type": "code", "source": source, "metadata": {}, "outputs": [],
                   "execution_count": None, "id": "a"}]}))
    assert main(["book", str(path)]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: {path}")


# --- figures that fail to save, pipes, same-named files, modules and sys.path ----------------


@pytest.mark.parametrize("cell", [
    "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.title(r'$\\frac{$')",
    "from d2l import torch as d2l\n"
    "animator = d2l.Animator(xlim=[1, 5], legend=[r'$\\frac{$'])\nanimator.add(1, 0.5)",
    "from d2l import torch as d2l\nboard = d2l.ProgressBoard(xlabel=r'$\\frac{$')\n"
    "board.draw(0, 1.0, 'loss')",
    # the cell puts a file where --out's folder belongs
    "import os\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\n"
    "open(os.environ['D2LNOTES_BOOK_OUT'], 'w').close()",
])
def test_a_figure_that_cannot_be_saved_fails_its_cell_and_the_run_goes_on(tmp_path, cell, capsys):
    script = _write(tmp_path / "nb.py", f"# %%\n{cell}\n# %%\nprint('next cell ran')\n")
    results = book_run.run_file(script, tmp_path / "out")
    out = capsys.readouterr().out
    assert [r.ok for r in results] == [False, True], out
    assert results[0].error.startswith("its figure could not be saved: ")
    assert "next cell ran" in out and "Error in callback" not in out


@pytest.mark.slow
def test_a_closed_pipe_ends_the_run_quietly(tmp_path):
    script = _write(tmp_path / "nb.py", "# %%\nfor i in range(100000):\n    print(i)\n"
                                        "# %%\nimport time\ntime.sleep(30)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    proc = subprocess.Popen([sys.executable, "-m", "d2lnotes", "book", str(script), "--out",
                             str(tmp_path / "out")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=ROOT)
    assert proc.stdout.readline() == b"0\n"
    proc.stdout.close()  # as `| head -1` does
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=20) == 0  # the sleeping cell never ran
    assert "Traceback" not in err and "BrokenPipeError" not in err


@pytest.mark.slow
def test_files_of_one_run_keep_their_own_pngs_modules_and_imports(tmp_path):
    # a/x.py and b/x.py: the same name; each imports its own folder's helper; a's folder
    # (the first file's) holds modules named like the runner's own dependencies
    for folder in ("a", "b"):
        _write(tmp_path / folder / "helper.py", f"WHERE = {folder!r}\n")
        _write(tmp_path / folder / "x.py", (
            "# %%\nimport helper\nprint('helper from', helper.WHERE)\n"
            "# %%\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\n"))
    for name in ("traitlets", "codeop", "getopt", "bdb"):
        _write(tmp_path / "a" / f"{name}.py", f"raise RuntimeError('{name}.py was imported')\n")
    # and a thread left running, which Python would wait for at exit
    with (tmp_path / "b" / "x.py").open("a") as f:
        f.write("# %%\nimport threading, time\n"
                "threading.Thread(target=time.sleep, args=(600,), name='sleeper').start()\n")
    out = tmp_path / "out"
    result = run_book(tmp_path / "a" / "x.py", tmp_path / "b" / "x.py", "--out", out, timeout=90)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "helper from a" in result.stdout and "helper from b" in result.stdout
    assert "was imported" not in result.stdout + result.stderr
    pngs = sorted(p.name for p in out.iterdir())
    assert pngs == ["a-x-cell02-1.png", "b-x-cell02-1.png"]
    assert result.stdout.splitlines()[-1].startswith("2 files: 5 cells, 5 ok, 0 failed; 2 figures")
    assert result.stderr.splitlines() == [
        "note: a cell left 1 thread(s) running (sleeper); the run ends without waiting for them"]


# --- the runner's smaller promises -------------------------------------------------------------


def _notebook(path, cells, **top):
    import json

    path.write_text(json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {}, **top,
        "cells": [{"cell_type": "code", "source": source, "metadata": {}, "outputs": [],
                   "execution_count": None, "id": f"c{k}"} for k, source in enumerate(cells)]}))
    return path


def test_notebooks_that_are_not_python_or_not_nbformat_are_one_line(tmp_path, capsys):
    from d2lnotes.__main__ import main

    r = _notebook(tmp_path / "r.ipynb", ["print(1)"],
                  metadata={"kernelspec": {"name": "ir", "language": "R"}})
    assert main(["book", str(r)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"error: {r} is a notebook in R (kernel 'ir'); d2lnotes runs the book's Python code"]
    bare = tmp_path / "bare.ipynb"
    bare.write_text('{"cells": [{"cell_type": "code", "source": "print(1)"}], "metadata": {}}')
    assert main(["book", str(bare)]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: {bare} is not a readable notebook (") and "nbformat" in line


def test_exit_and_quit_in_a_cell_fail_that_cell_as_sys_exit_does(tmp_path, capsys):
    script = _write(tmp_path / "nb.py", "# %%\nexit()\n# %%\nquit(5)\n# %%\nprint('after')\n")
    results = book_run.run_file(script, tmp_path / "out")
    captured = capsys.readouterr()
    assert [r.error for r in results] == ["SystemExit", "SystemExit: 5", None]
    assert "ask_exit" not in captured.out and "To exit" not in captured.err


def test_a_syntax_error_is_reported_once(tmp_path, capsys):
    script = _write(tmp_path / "nb.py", "# %%\nx = (\n")
    (result,) = book_run.run_file(script, tmp_path / "out")
    captured = capsys.readouterr()
    assert result.error.startswith("SyntaxError: incomplete input")
    assert (captured.out + captured.err).count("SyntaxError") == 1


def test_import_d2l_mxnet_names_the_fix(tmp_path):
    with redirect(), pytest.raises(ImportError, match="d2lnotes runs the book's PyTorch code"):
        importlib.import_module("d2l.mxnet")
    assert "d2l.mxnet" not in sys.modules
