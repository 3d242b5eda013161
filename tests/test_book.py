"""The book's API (``d2lnotes.d2l``), the import redirect and ``python -m d2lnotes book``.

Every cell here is our own book-style code, written for the test. Training runs on small
synthetic data, except the loader test, which reads the real Fashion-MNIST once.
"""

import importlib
import re
import sys
import types
import zipfile
from pathlib import Path

import matplotlib
import pytest
import torch
from booktools import headless, run_book  # noqa: F401 (headless: autouse)
from torch import nn

from d2lnotes import d2l
from d2lnotes.book import modern, redirect
from d2lnotes.book import run as book_run
from d2lnotes.utils.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"




def blobs(n=600, seed=0):
    """Three well-separated Gaussian blobs in 2-D: ``(X, y)`` with int64 labels."""
    g = torch.Generator().manual_seed(seed)
    centers = torch.tensor([[0.0, 5.0], [5.0, 0.0], [-5.0, -5.0]])
    y = torch.randint(0, 3, (n,), generator=g)
    return centers[y] + torch.randn(n, 2, generator=g), y


def scratch_softmax(num_inputs=2, num_outputs=3, seed=0):
    """The book's scratch softmax regression: ``(net, [W, b], cross_entropy)``."""
    g = torch.Generator().manual_seed(seed)
    W = (torch.randn(num_inputs, num_outputs, generator=g) * 0.01).requires_grad_()
    b = torch.zeros(num_outputs, requires_grad=True)

    def net(X):
        logits = d2l.matmul(d2l.reshape(X, (-1, W.shape[0])), W) + b
        X_exp = d2l.exp(logits)
        return X_exp / d2l.reduce_sum(X_exp, 1, keepdim=True)

    def cross_entropy(y_hat, y):
        return -d2l.log(y_hat[range(len(y_hat)), y])

    return net, [W, b], cross_entropy


# --- training: the book's two conventions, against plain loops ------------------------------


@pytest.mark.slow
def test_train_ch3_with_a_function_updater_equals_a_plain_loop(capsys):
    X, y = blobs()
    lr, batch_size, num_epochs = 0.1, 32, 3
    net, params, loss = scratch_softmax()
    torch.manual_seed(1)
    d2l.train_ch3(net, d2l.load_array((X, y), batch_size), d2l.load_array((X, y), 256, False),
                  loss, num_epochs, lambda n: d2l.sgd(params, lr, n))

    ref_net, ref_params, ref_loss = scratch_softmax()
    torch.manual_seed(1)
    batches = d2l.load_array((X, y), batch_size)
    for _ in range(num_epochs):
        for Xb, yb in batches:
            ref_loss(ref_net(Xb), yb).sum().backward()
            with torch.no_grad():
                for p in ref_params:
                    p -= lr * p.grad / len(yb)
                    p.grad.zero_()
    for p, q in zip(params, ref_params):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-7)
    assert not torch.equal(params[0], scratch_softmax()[1][0])  # it did train
    lines = [s for s in capsys.readouterr().out.splitlines() if s.startswith("epoch ")]
    assert len(lines) == num_epochs and "train loss" in lines[0] and "test acc" in lines[0]


@pytest.mark.slow
def test_train_ch3_with_torch_optim_equals_a_plain_loop():
    X, y = blobs()
    lr, batch_size, num_epochs = 0.1, 32, 3

    def make():
        torch.manual_seed(5)
        return nn.Sequential(nn.Flatten(), nn.Linear(2, 3))

    net, loss = make(), nn.CrossEntropyLoss(reduction="none")
    torch.manual_seed(1)
    d2l.train_ch3(net, d2l.load_array((X, y), batch_size), d2l.load_array((X, y), 256, False),
                  loss, num_epochs, torch.optim.SGD(net.parameters(), lr=lr))

    ref = make()
    optimizer = torch.optim.SGD(ref.parameters(), lr=lr)
    torch.manual_seed(1)
    batches = d2l.load_array((X, y), batch_size)
    for _ in range(num_epochs):
        for Xb, yb in batches:
            optimizer.zero_grad()
            loss(ref(Xb), yb).mean().backward()
            optimizer.step()
    for p, q in zip(net.parameters(), ref.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-7)


@pytest.mark.slow
def test_train_epoch_ch3_returns_the_mean_loss_and_accuracy_of_the_epoch():
    X, y = blobs(n=100)
    net, params, loss = scratch_softmax()
    with torch.no_grad():
        expected_loss = float(loss(net(X), y).mean())
        expected_acc = d2l.accuracy(net(X), y) / len(y)
    # lr 0: the parameters do not move, so the epoch's figures are those of the start
    train_loss, train_acc = d2l.train_epoch_ch3(net, d2l.load_array((X, y), 100), loss,
                                                lambda n: d2l.sgd(params, 0.0, n))
    assert train_loss == pytest.approx(expected_loss, rel=1e-6)
    assert train_acc == pytest.approx(expected_acc)
    with pytest.raises(TypeError, match="updater"):
        d2l.train_epoch_ch3(net, d2l.load_array((X, y), 100), loss, "sgd")


@pytest.mark.slow
def test_train_ch3_sanity_check_says_what_was_expected_and_what_came_out():
    X, y = blobs()
    net, params, loss = scratch_softmax()
    with pytest.raises(AssertionError) as info:
        d2l.train_ch3(net, d2l.load_array((X, y), 32), d2l.load_array((X, y), 256, False),
                      loss, 2, lambda n: d2l.sgd(params, 1e-6, n))
    message = str(info.value)
    found = re.search(r"the final training loss is (\d+\.\d+), expected below 0\.5", message)
    assert found and float(found[1]) > 0.5  # lr 1e-6: still at the start, log(3) = 1.0986
    assert re.search(r"the final test accuracy is 0\.\d+, expected above 0\.7", message)


# --- the loader -------------------------------------------------------------------------------


def test_load_data_fashion_mnist_has_the_books_shapes_and_dtypes(fashion_mnist_raw):
    train_iter, test_iter = d2l.load_data_fashion_mnist(256)
    assert (len(train_iter), len(test_iter)) == (235, 40)
    X, y = next(iter(train_iter))
    assert X.shape == (256, 1, 28, 28) and X.dtype == torch.float32
    assert y.shape == (256,) and y.dtype == torch.int64
    assert 0 <= float(X.min()) and float(X.max()) <= 1
    # re-iterable; the training set is reshuffled on every pass, the test set is not
    assert not torch.equal(next(iter(train_iter))[1], y)
    assert torch.equal(next(iter(test_iter))[1], next(iter(test_iter))[1])
    assert sum(len(yb) for _, yb in test_iter) == 10000


# --- figures ----------------------------------------------------------------------------------


def test_animator_prints_a_line_per_point_and_writes_its_png_when_complete(tmp_path, capsys):
    animator = d2l.Animator(xlabel="epoch", xlim=[1, 3], legend=["train", "test"])
    animator.add(1, (0.5, 0.25))
    animator.add(2, (None, 0.125))
    assert not (tmp_path / "book-out").exists()  # not complete yet
    animator.add(3, (0.0625, 0.03125))
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == ["epoch 1: train 0.5, test 0.25", "epoch 2: test 0.125",
                       "epoch 3: train 0.0625, test 0.03125"]
    path = Path(out[3].removeprefix("figure: "))
    assert path.parent == tmp_path / "book-out" and path.read_bytes().startswith(PNG)
    assert [len(x) for x in animator.X] == [2, 3]  # the None was skipped
    assert animator.axes[0].get_xlim() == (1.0, 3.0)


def test_plot_and_show_images_draw_on_pyplot():
    import matplotlib.pyplot as plt

    x = d2l.arange(0, 3, 0.5)
    d2l.plot(x, [x ** 2, 2 * x - 1], "x", "f(x)", legend=["f", "tangent"])
    ax = plt.gca()
    assert len(ax.get_lines()) == 2 and ax.get_xlabel() == "x" and ax.get_ylabel() == "f(x)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["f", "tangent"]
    d2l.plot(d2l.tensor([3.0, 1.0, 2.0]))  # Y alone: plotted against 0, 1, 2
    assert list(plt.gca().get_lines()[0].get_xdata()) == [0, 1, 2]

    axes = d2l.show_images(torch.rand(4, 28, 28), 2, 3, titles=list("abcd"))
    assert len(axes) == 6 and [a.get_title() for a in axes[:4]] == list("abcd")
    assert axes[0].figure.get_size_inches().tolist() == [4.5, 3.0]


def test_predict_ch3_titles_each_image_with_true_and_predicted_labels():
    import matplotlib.pyplot as plt

    X, y = torch.rand(8, 1, 28, 28), torch.tensor([0, 1, 2, 3, 4, 5, 6, 7])

    def net(X):  # always predicts "bag" (8)
        return torch.nn.functional.one_hot(torch.full((len(X),), 8), 10).float()

    d2l.predict_ch3(net, d2l.load_array((X, y), 8, False), n=3)
    titles = [a.get_title() for a in plt.gcf().axes]
    assert titles == ["t-shirt\nbag", "trouser\nbag", "pullover\nbag"]


def test_set_figsize_set_axes_and_use_svg_display():
    import matplotlib.pyplot as plt

    with matplotlib.rc_context():
        assert d2l.use_svg_display() is None  # outside Jupyter: nothing to do
        d2l.set_figsize((6, 4.5))
        assert list(plt.rcParams["figure.figsize"]) == [6, 4.5]
    from d2lnotes.utils.plot import new_figure

    _, ax = new_figure()
    ax.plot([1, 2], [10, 100])
    d2l.set_axes(ax, "x", "y", [1, 2], [1, 1000], "linear", "log", ["curve"])
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_yscale()) == ("x", "y", "log")
    assert ax.get_ylim() == (1, 1000) and ax.get_legend() is not None


# --- every exported name ------------------------------------------------------------------------


def _check_synthetic_data():
    torch.manual_seed(0)
    w = d2l.tensor([2, -3.4])
    X, y = d2l.synthetic_data(w, 4.2, 1000)
    assert X.shape == (1000, 2) and y.shape == (1000, 1)
    assert float((y - (X @ w + 4.2).reshape(-1, 1)).std()) == pytest.approx(0.01, rel=0.1)


def _check_sgd():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    (w * torch.tensor([3.0, 4.0])).sum().backward()
    d2l.sgd([w], 0.5, 2)  # w -= 0.5 * grad / 2
    assert w.tolist() == [1.0 - 0.75, 2.0 - 1.0] and w.grad.tolist() == [0, 0]
    with pytest.raises(ValueError, match="no gradient"):
        d2l.sgd([torch.zeros(2, requires_grad=True)], 0.1, 1)


def _check_load_array():
    X, y = torch.arange(10.0).reshape(5, 2), torch.arange(5)
    batches = list(d2l.load_array((X, y), 2, is_train=False))
    assert [len(b) for _, b in batches] == [2, 2, 1] and torch.equal(batches[0][1], y[:2])
    torch.manual_seed(0)
    shuffled = torch.cat([b for _, b in d2l.load_array((X, y), 2)])
    assert sorted(shuffled.tolist()) == y.tolist()


def _check_accuracy():
    y_hat = d2l.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
    assert d2l.accuracy(y_hat, d2l.tensor([0, 2])) == 1.0  # a count, as in the book


def _check_evaluate_accuracy():
    X, y = torch.eye(4), torch.tensor([0, 1, 2, 0])
    assert d2l.evaluate_accuracy(lambda X: X, d2l.load_array((X, y), 3, False)) == 0.75


def _check_evaluate_loss():
    X, y = torch.arange(6.0).reshape(3, 2), torch.tensor([1.0, 2.0, 3.0])

    def net(X):
        return X[:, :1]  # predictions 0, 2, 4: squared errors 1, 0, 1

    loss = nn.MSELoss(reduction="none")
    assert d2l.evaluate_loss(net, d2l.load_array((X, y), 2, False), loss) == pytest.approx(2 / 3)


def _check_timer():
    timer = d2l.Timer()
    timer.stop()
    timer.start()
    timer.stop()
    assert len(timer.times) == 2 and timer.sum() == pytest.approx(sum(timer.times))
    assert timer.avg() == pytest.approx(timer.sum() / 2)
    assert timer.cumsum() == pytest.approx([timer.times[0], timer.sum()])


def _check_accumulator():
    metric = d2l.Accumulator(2)
    metric.add(1, torch.tensor(2.5))
    metric.add(2, 0.5)
    assert (metric[0], metric[1]) == (3.0, 3.0)
    metric.reset()
    assert metric.data == [0.0, 0.0]


def _check_data_hub():
    from d2lnotes.ch4 import kaggle

    for name, file in (("kaggle_house_train", "kaggle_house_pred_train.csv"),
                       ("kaggle_house_test", "kaggle_house_pred_test.csv")):
        assert d2l.DATA_HUB[name] == (d2l.DATA_URL + file, kaggle.KAGGLE_FILES[file])


def _aliases():
    a = torch.tensor([[1.0, -2.0], [3.0, 4.0]])
    same = torch.equal
    return {
        "tensor": lambda: same(d2l.tensor([1, 2]), torch.tensor([1, 2])),
        "reshape": lambda: d2l.reshape(a, (4,)).shape == (4,),
        "reduce_sum": lambda: float(d2l.reduce_sum(a)) == 6.0,
        "reduce_mean": lambda: float(d2l.reduce_mean(a)) == 1.5,
        "argmax": lambda: d2l.argmax(a, axis=1).tolist() == [0, 1],
        "astype": lambda: d2l.astype(a, torch.int32).dtype == torch.int32,
        "size": lambda: d2l.size(a) == 4,
        "numpy": lambda: d2l.numpy(a.requires_grad_(False)).tolist() == a.tolist(),
        "to": lambda: d2l.to(a, torch.float64).dtype == torch.float64,
        "transpose": lambda: same(d2l.transpose(a), a.T),
        "float32": lambda: d2l.float32 is torch.float32,
        "int32": lambda: d2l.int32 is torch.int32,
        "ones": lambda: same(d2l.ones(2), torch.ones(2)),
        "zeros": lambda: same(d2l.zeros(2), torch.zeros(2)),
        "normal": lambda: d2l.normal(0, 1, (3, 2)).shape == (3, 2),
        "rand": lambda: 0 <= float(d2l.rand(5).min()),
        "randn": lambda: d2l.randn(2, 3).shape == (2, 3),
        "arange": lambda: d2l.arange(3).tolist() == [0, 1, 2],
        "linspace": lambda: d2l.linspace(0, 1, 3).tolist() == [0, 0.5, 1],
        "matmul": lambda: same(d2l.matmul(a, a), a @ a),
        "concat": lambda: d2l.concat((a, a), 0).shape == (4, 2),
        "stack": lambda: d2l.stack((a, a)).shape == (2, 2, 2),
        "exp": lambda: same(d2l.exp(a), torch.exp(a)),
        "log": lambda: same(d2l.log(a.abs()), torch.log(a.abs())),
        "sin": lambda: same(d2l.sin(a), torch.sin(a)),
        "sinh": lambda: same(d2l.sinh(a), torch.sinh(a)),
        "cos": lambda: same(d2l.cos(a), torch.cos(a)),
        "cosh": lambda: same(d2l.cosh(a), torch.cosh(a)),
        "tanh": lambda: same(d2l.tanh(a), torch.tanh(a)),
        "abs": lambda: d2l.abs(a).tolist() == [[1, 2], [3, 4]],
        "eye": lambda: same(d2l.eye(2), torch.eye(2)),
        "meshgrid": lambda: [t.shape for t in d2l.meshgrid(d2l.arange(2), d2l.arange(3),
                                                            indexing="ij")] == [(2, 3)] * 2,
    }


# name -> a check that raises or returns False when the name misbehaves. The names with a test
# of their own above point at it, so that a new export without any check fails below.
CHECKS = {
    "use_svg_display": test_set_figsize_set_axes_and_use_svg_display,
    "set_figsize": test_set_figsize_set_axes_and_use_svg_display,
    "set_axes": test_set_figsize_set_axes_and_use_svg_display,
    "plot": test_plot_and_show_images_draw_on_pyplot,
    "show_images": test_plot_and_show_images_draw_on_pyplot,
    "Animator": test_animator_prints_a_line_per_point_and_writes_its_png_when_complete,
    "predict_ch3": test_predict_ch3_titles_each_image_with_true_and_predicted_labels,
    "train_ch3": test_train_ch3_with_a_function_updater_equals_a_plain_loop,
    "train_epoch_ch3": test_train_epoch_ch3_returns_the_mean_loss_and_accuracy_of_the_epoch,
    "load_data_fashion_mnist": test_load_data_fashion_mnist_has_the_books_shapes_and_dtypes,
    "download": "test_download_looks_in_the_data_folder_then_fetches_atomically_with_the_hash",
    "download_extract": "test_download_extract_refuses_to_write_outside_its_folder",
    "download_all": "test_download_looks_in_the_data_folder_then_fetches_atomically_with_the_hash",
    "plt": "test_load_ext_in_a_real_kernel",
    "Timer": _check_timer,
    "Accumulator": _check_accumulator,
    "synthetic_data": _check_synthetic_data,
    "linreg": lambda: torch.equal(d2l.linreg(torch.eye(2), torch.tensor([[2.0], [3.0]]), 1.0),
                                  torch.tensor([[3.0], [4.0]])),
    "squared_loss": lambda: d2l.squared_loss(torch.tensor([[1.0], [3.0]]),
                                             torch.tensor([2.0, 3.0])).tolist() == [[0.5], [0]],
    "sgd": _check_sgd,
    "load_array": _check_load_array,
    "get_fashion_mnist_labels": lambda: d2l.get_fashion_mnist_labels(
        torch.tensor([0, 9])) == ["t-shirt", "ankle boot"],
    "get_dataloader_workers": lambda: d2l.get_dataloader_workers() == 4,
    "accuracy": _check_accuracy,
    "evaluate_accuracy": _check_evaluate_accuracy,
    "evaluate_loss": _check_evaluate_loss,
    "DATA_HUB": _check_data_hub,
    "DATA_URL": lambda: d2l.DATA_URL.startswith("http") and d2l.DATA_URL.endswith("/"),
    "try_gpu": lambda: d2l.try_gpu(99) == torch.device("cpu"),
    "try_all_gpus": lambda: (d2l.try_all_gpus() == [torch.device("cpu")]
                             if not torch.cuda.is_available() else len(d2l.try_all_gpus()) >= 1),
    **_aliases(),
}


# The 1.0 edition's names (d2lnotes.book.modern) are checked in tests/test_book_modern.py.
@pytest.mark.parametrize("name", sorted(set(d2l.__all__) - (set(modern.__all__) - set(CHECKS))))
def test_every_exported_name_is_checked(name):
    assert hasattr(d2l, name) or name == "plt"
    check = CHECKS[name]  # a KeyError here: a new export without a check
    if isinstance(check, str):
        assert check in globals(), f"{name}: its test {check} is missing"
    elif check.__name__.startswith("test_"):
        pass  # runs as its own test
    else:
        assert check() is not False, name


# --- downloads ----------------------------------------------------------------------------


def _hub_entry(monkeypatch, name, content, fname="thing.csv"):
    import hashlib

    entry = (d2l.DATA_URL + fname, hashlib.sha1(content).hexdigest())
    monkeypatch.setitem(d2l.DATA_HUB, name, entry)
    return entry


def test_download_looks_in_the_data_folder_then_fetches_atomically_with_the_hash(
        tmp_path, monkeypatch, hub_mirror):
    monkeypatch.setenv("D2LNOTES_DATA", str(tmp_path / "data"))
    for name in list(d2l.DATA_HUB):  # only this test's entries (restored afterwards)
        monkeypatch.delitem(d2l.DATA_HUB, name)
    (tmp_path / "data" / "kaggle_house").mkdir(parents=True)
    good = b"a,b\n1,2\n"
    _hub_entry(monkeypatch, "thing", good)
    (tmp_path / "data" / "kaggle_house" / "thing.csv").write_bytes(good)
    hub, fetched = hub_mirror  # the book's URLs are read from this local mirror
    assert d2l.download("thing") == str(tmp_path / "data" / "kaggle_house" / "thing.csv")
    assert fetched == []  # found in d2lnotes' data folder: no network

    (tmp_path / "data" / "kaggle_house" / "thing.csv").unlink()
    (hub / "thing.csv").write_bytes(good)
    d2l.download_all()  # fetches what is missing, into the data folder
    assert (tmp_path / "data" / "thing.csv").read_bytes() == good

    _hub_entry(monkeypatch, "bad", b"expected", fname="bad.csv")
    (hub / "bad.csv").write_bytes(b"other")
    with pytest.raises(DataError, match="SHA-1"):  # every download's one error type
        d2l.download("bad", cache_dir=tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []  # nothing half-written or wrong kept
    with pytest.raises(KeyError, match="not in DATA_HUB"):
        d2l.download("nope")


def test_download_extract_refuses_to_write_outside_its_folder(tmp_path, monkeypatch):
    import io

    monkeypatch.setenv("D2LNOTES_DATA", str(tmp_path / "data"))
    for name, member in (("ok", "ok/a.txt"), ("evil", "../evil.txt")):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(member, "hi")
        content = buf.getvalue()
        _hub_entry(monkeypatch, name, content, fname=f"{name}.zip")
        (tmp_path / "data").mkdir(exist_ok=True)
        (tmp_path / "data" / f"{name}.zip").write_bytes(content)
    assert d2l.download_extract("ok") == str(tmp_path / "data" / "ok")
    assert (tmp_path / "data" / "ok" / "a.txt").read_text() == "hi"
    with pytest.raises(DataError, match="outside"):  # every extract's one error type
        d2l.download_extract("evil")
    assert not (tmp_path / "evil.txt").exists()


# --- the redirect ---------------------------------------------------------------------------


def test_redirect_shadows_an_installed_d2l_only_while_active(tmp_path, monkeypatch):
    (tmp_path / "d2l").mkdir()
    (tmp_path / "d2l" / "__init__.py").write_text("")
    (tmp_path / "d2l" / "torch.py").write_text("MARK = 'installed'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("d2l", "d2l.torch"):
        monkeypatch.delitem(sys.modules, name, raising=False)

    with redirect():
        from d2l import torch as book

        assert book is d2l
        assert importlib.import_module("d2l.torch") is book
        with pytest.raises(ImportError, match="PyTorch code only"):
            from d2l import mxnet  # noqa: F401
    from d2l import torch as installed  # never imported before: found on sys.path

    assert installed.MARK == "installed"
    with redirect():  # imported before: shadowed inside, back after
        from d2l import torch as book
        assert book is d2l
    assert sys.modules["d2l.torch"] is installed
    for name in ("d2l", "d2l.torch"):
        sys.modules.pop(name, None)


# --- python -m d2lnotes book --------------------------------------------------------------




@pytest.mark.slow
def test_book_runs_a_notebook_with_the_redirect_and_writes_every_figure(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# a reader's notebook")] + [
        nbformat.v4.new_code_cell(src) for src in (
            "%matplotlib inline\nfrom d2l import torch as d2l\nimport sys\n"
            "print('redirected:', sys.modules['d2l'].torch is d2l, d2l.__name__)",
            "x = d2l.arange(0, 3, 0.1)\nd2l.plot(x, [x ** 2, 2 * x - 1], 'x', 'f(x)')",
            "animator = d2l.Animator(xlabel='epoch', xlim=[1, 2], legend=['loss'])\n"
            "for epoch in (1, 2):\n    animator.add(epoch, 1 / epoch)",
            "import os\nprint('cwd:', os.getcwd())",
        )]
    nbformat.write(nb, tmp_path / "reader.ipynb")
    out = tmp_path / "figures"
    result = run_book(tmp_path / "reader.ipynb", "--out", out)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "redirected: True d2lnotes.d2l" in lines
    assert f"cwd: {tmp_path}" in lines  # cells run in the notebook's folder, as in Jupyter
    assert [s.split(":")[0] for s in lines if s.startswith("cell ")] == [
        "cell 1/4", "cell 2/4", "cell 3/4", "cell 4/4"]
    assert all(": ok " in s for s in lines if s.startswith("cell "))
    assert lines[-1].startswith("4 cells, 4 ok, 0 failed; 2 figures")
    pngs = sorted(p.name for p in out.iterdir())
    assert pngs == ["reader-cell02-1.png", "reader-cell03-animator-1.png"]
    assert all((out / p).read_bytes().startswith(PNG) for p in pngs)
    assert result.stderr == ""


@pytest.mark.slow
def test_book_py_failing_cells_exit_1_with_one_line_and_the_pandas_hint(tmp_path):
    # also: a timed-out cell, and two files in one run
    script = tmp_path / "reader.py"
    script.write_text(
        "# %%\nimport pandas as pd\n"
        "df = pd.DataFrame({'rooms': [1.0, None], 'alley': ['Pave', None]})\n"
        "# %%\n"
        "df = df.fillna(df.mean())\n"
        "# %%\nimport time\ntime.sleep(60)\n"
        "# %%\nprint('still running')\n")
    other = tmp_path / "other.py"  # a second file runs after it, in a fresh namespace
    other.write_text("print('df defined:', 'df' in dir())\n")
    # 5 s: on a busy 2-core machine importing pandas alone took 3.8 s
    result = run_book(script, other, "--out", tmp_path / "out", "--timeout", "5")
    assert result.returncode == 1
    assert "df defined: False" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("2 files: 5 cells, 3 ok, 2 failed")
    (error,) = result.stderr.splitlines()
    assert error.startswith(f"error: {script}: cell 2 (line 5) failed: TypeError")
    assert "numeric_only=True" in error and "(1 more failed after it)" in error
    assert "cell 3/4 (line 7): FAILED" in result.stdout
    assert "CellTimeout: the cell ran past --timeout 5 s" in result.stdout
    assert "still running" in result.stdout and "cell 4/4 (line 10): ok" in result.stdout


def test_hints_name_the_fix_for_the_books_two_pandas_failures():
    import pandas as pd

    df = pd.get_dummies(pd.DataFrame({"a": [1.0, 2.0], "b": ["x", None]}), dummy_na=True)
    with pytest.raises(TypeError) as info:
        torch.tensor(df.values)
    assert "dtype=float" in book_run.hint_for(book_run.one_line(info.value))
    with pytest.raises(TypeError) as info:
        pd.DataFrame({"a": [1.0], "b": ["x"]}).mean()
    assert "numeric_only=True" in book_run.hint_for(book_run.one_line(info.value))
    assert book_run.hint_for("NameError: name 'x' is not defined") is None


def test_book_usage_errors_are_one_line_with_status_2(tmp_path, capsys):
    from d2lnotes.__main__ import main

    assert main(["book", str(tmp_path / "missing.ipynb")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {tmp_path / 'missing.ipynb'} is not a file; give a .ipynb notebook or a .py "
        "script"]
    (tmp_path / "notes.txt").write_text("x = 1\n")
    assert main(["book", str(tmp_path / "notes.txt")]) == 2
    assert "neither a .ipynb notebook nor a .py script" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["book"])
    assert info.value.code == 2
    assert len(capsys.readouterr().err.splitlines()) == 1


def test_read_cells_splits_a_py_file_at_cell_markers(tmp_path):
    path = tmp_path / "s.py"
    path.write_text("import torch\n# %%\n\n# %% [markdown]\nx = 1\n#%%\ny = 2\n")
    cells = book_run.read_cells(path)
    assert [(c.number, c.source.strip(), c.line) for c in cells] == [
        (0, "import torch", 1), (2, "x = 1", 5), (3, "y = 2", 7)]  # numbered as the markers


# --- %load_ext d2lnotes.book in a real kernel -----------------------------------------------


def test_load_ext_in_a_real_kernel(tmp_path, kernel_name):
    import base64

    import nbclient
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in (
        "%load_ext d2lnotes.book\nfrom d2l import torch as d2l\nimport sys\n"
        "print(d2l.__name__, 'matplotlib.pyplot' in sys.modules)",
        "print(d2l.plt.__name__)",
        "animator = d2l.Animator(xlim=[1, 3], legend=['loss'])\n"
        "for epoch in (1, 2, 3):\n    animator.add(epoch, 1 / epoch)",
        "board = d2l.ProgressBoard(xlabel='epoch')\n"
        "for epoch in (1, 2, 3):\n    board.draw(epoch, 1 / epoch, 'loss')\n"
        "board.save()",
        "%unload_ext d2lnotes.book\nprint('d2l' in sys.modules)",
        # the one %load_ext line gives the 1.0 sources' tab and %%tab as well
        "%load_ext d2lnotes.book\nprint(tab.selected('pytorch'), tab.selected('mxnet'))",
        "%%tab pytorch\nprint('the pytorch tab ran')",
        "%%tab mxnet\nprint('the mxnet tab ran')",
    )]
    nbclient.NotebookClient(nb, kernel_name=kernel_name, timeout=120).execute()
    text = ["".join(o.get("text", "") for o in c.outputs) for c in nb.cells]
    assert text[0] == "d2lnotes.d2l False\n"  # pyplot only on first use
    assert text[1] == "matplotlib.pyplot\n"
    assert text[4] == "False\n"
    assert text[5:] == ["True False\n", "the pytorch tab ran\n", ""]
    # the Animator and the 1.0 ProgressBoard redraw one image in place, they do not append
    # one per point
    for cell in (2, 3):
        images = [o for o in nb.cells[cell].outputs if "image/png" in o.get("data", {})]
        assert len(images) == 1 and base64.b64decode(images[0].data["image/png"]).startswith(PNG)
    assert "epoch" not in text[2]  # no terminal lines in a notebook


def test_d2l_module_is_plain_names():
    assert isinstance(d2l, types.ModuleType) and "plt" in d2l.__all__
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        d2l.nope  # noqa: B018
