"""Shared utilities: batching, Fashion-MNIST import and checks, the loop, the figures."""

import shutil
import subprocess
import sys

import pytest
import torch

from d2lnotes.utils import data, io, plot
from d2lnotes.utils.errors import DataError, DivergenceError
from d2lnotes.utils.train import History, evaluate, max_param_diff, train

# --- batching ------------------------------------------------------------------------------


def test_synthetic_data_shapes_and_model():
    torch.manual_seed(0)
    X, y = data.synthetic_data(torch.tensor([2.0, -3.4]), 4.2, 1000)
    assert X.shape == (1000, 2) and y.shape == (1000, 1)
    residual = y - (X @ torch.tensor([[2.0], [-3.4]]) + 4.2)
    assert residual.std() == pytest.approx(0.01, rel=0.2)


def test_loader_visits_every_example_once_per_epoch():
    X = torch.arange(23.0).reshape(-1, 1)
    loader = data.load_array((X, torch.arange(23)), batch_size=5)
    assert len(loader) == 5
    for _ in range(2):
        seen = torch.cat([Xb.flatten() for Xb, _ in loader])
        assert sorted(seen.tolist()) == X.flatten().tolist()
        assert seen.tolist() != X.flatten().tolist()  # shuffled (23! orders, so not by luck)


def test_loader_order_follows_the_seed():
    loader = data.load_array((torch.arange(50),), batch_size=7)
    torch.manual_seed(1)
    first = [b[0].tolist() for b in loader]
    torch.manual_seed(1)
    assert [b[0].tolist() for b in loader] == first


def test_batch_larger_than_data_gives_one_batch():
    loader = data.load_array((torch.zeros(3, 2), torch.zeros(3)), batch_size=100)
    batches = list(loader)
    assert len(batches) == 1 and batches[0][0].shape == (3, 2)


@pytest.mark.parametrize("bad", [0, -1, 2.5, "8", True])
def test_loader_rejects_bad_batch_size(bad):
    with pytest.raises(ValueError, match="batch_size"):
        data.load_array((torch.zeros(3),), batch_size=bad)


def test_fashion_mnist_batches(fashion_mnist):
    train_iter, test_iter = fashion_mnist
    assert train_iter.num_examples == 60000 and test_iter.num_examples == 10000
    X, y = next(iter(train_iter))
    assert X.shape == (256, 1, 28, 28) and X.dtype == torch.float32
    assert y.dtype == torch.int64 and 0 <= X.min() and X.max() <= 1
    assert data.fashion_mnist_labels([0, 9]) == ["t-shirt", "ankle boot"]


def test_file_in_the_way_finds_the_file_that_blocks_a_folder(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert io.file_in_the_way(tmp_path) is None  # an existing folder
    assert io.file_in_the_way(tmp_path / "new" / "deeper") is None  # can be made
    assert io.file_in_the_way(afile) == afile
    assert io.file_in_the_way(afile / "sub" / "raw") == afile  # a file above it


# --- Fashion-MNIST files: import, corruption, missing ------------------------------------------

@pytest.fixture
def good_raw(tmp_path, fashion_mnist_raw):
    """A data root holding a verified copy of the four IDX files."""
    raw = fashion_mnist_raw
    dest = tmp_path / "FashionMNIST" / "raw"
    dest.mkdir(parents=True)
    for name in data.FASHION_MNIST_FILES:
        shutil.copy(raw / name, dest / name)
    return tmp_path


def test_missing_data_with_no_source_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "SYSTEM_DIRS", [])
    with pytest.raises(DataError) as e:
        data.ensure_fashion_mnist(tmp_path, download=False)
    msg = str(e.value)
    assert str(tmp_path / "FashionMNIST" / "raw") in msg
    assert "apt-get install dataset-fashion-mnist" in msg and "D2LNOTES_DATA" in msg


def _truncate(path):
    path.write_bytes(path.read_bytes()[:1000])


def _wrong_magic(path):
    raw = bytearray(path.read_bytes())
    raw[3] = 0x99
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("damage, expect", [(_truncate, "expected"), (_wrong_magic, "magic")])
def test_corrupt_file_is_caught_and_names_the_file(good_raw, monkeypatch, damage, expect):
    target = good_raw / "FashionMNIST" / "raw" / "t10k-images-idx3-ubyte"
    damage(target)
    monkeypatch.setattr(data, "SYSTEM_DIRS", [])
    with pytest.raises(DataError) as e:
        data.ensure_fashion_mnist(good_raw, download=False)
    assert "t10k-images-idx3-ubyte" in str(e.value) and expect in str(e.value)


@pytest.mark.skipif(not any(d.is_dir() for d in data.system_dirs()),
                    reason="needs Debian's dataset-fashion-mnist (installed by .ci/run)")
def test_corrupt_file_is_reimported_from_the_system_copy(good_raw):
    target = good_raw / "FashionMNIST" / "raw" / "train-labels-idx1-ubyte"
    _truncate(target)
    data.ensure_fashion_mnist(good_raw, download=False)
    assert data.check_idx(target, *data.FASHION_MNIST_FILES[target.name]) is None
    assert not list(target.parent.glob("*.part"))


# --- the loop ------------------------------------------------------------------------------

def _linear_problem(lr):
    torch.manual_seed(0)
    X, y = data.synthetic_data(torch.tensor([2.0, -3.4]), 4.2, 200)
    net = torch.nn.Linear(2, 1)
    return net, data.load_array((X, y), 10), torch.optim.SGD(net.parameters(), lr=lr)


@pytest.mark.slow
def test_train_returns_history_for_regression():
    net, it, opt = _linear_problem(0.03)
    h = train(net, it, it, torch.nn.MSELoss(), 3, opt, quiet=True)
    assert isinstance(h, History) and len(h.train_loss) == len(h.test_loss) == 3
    assert h.train_acc == [] and h.test_acc == []
    assert h.train_loss[-1] < h.train_loss[0]
    assert h.test_loss[-1] == pytest.approx(evaluate(net, it, torch.nn.MSELoss())[0])


@pytest.mark.slow
def test_diverging_training_names_epoch_and_batch():
    net, it, opt = _linear_problem(1e3)
    with pytest.raises(DivergenceError, match=r"epoch 1, batch \d+; try a smaller learning rate"):
        train(net, it, None, torch.nn.MSELoss(), 3, opt, quiet=True)


@pytest.mark.slow
def test_callback_sees_every_epoch():
    net, it, opt = _linear_problem(0.03)
    seen = []
    train(net, it, None, torch.nn.MSELoss(), 2, opt, quiet=True,
          callback=lambda h: seen.append(len(h.train_loss)))
    assert seen == [1, 2]


def test_max_param_diff():
    a = [torch.zeros(2, 2), torch.ones(3)]
    b = [torch.zeros(2, 2), torch.tensor([1.0, 1.5, 1.0])]
    assert max_param_diff(a, b) == 0.5
    with pytest.raises(ValueError):
        max_param_diff(a, b[:1])


# --- figures ---------------------------------------------------------------------------------

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


def test_truncated_system_gz_is_named_and_never_installed(tmp_path, monkeypatch, good_raw):
    import gzip

    system = tmp_path / "system"
    system.mkdir()
    raw = good_raw / "FashionMNIST" / "raw"
    # Only the missing file is imported, so only its .gz is needed (10 kB, not 55 MB).
    name = "t10k-labels-idx1-ubyte"
    payload = gzip.compress((raw / name).read_bytes())
    (system / f"{name}.gz").write_bytes(payload[: len(payload) // 2])  # cut off halfway
    (raw / name).unlink()
    monkeypatch.setattr(data, "SYSTEM_DIRS", [system])
    with pytest.raises(DataError) as e:
        data.ensure_fashion_mnist(good_raw, download=False)
    assert "t10k-labels-idx1-ubyte.gz" in str(e.value)
    assert not (raw / "t10k-labels-idx1-ubyte").exists()
    assert not list(raw.glob("*.part")) and not list(raw.glob(".*.part"))


@pytest.mark.slow
def test_resize_gives_the_asked_size_and_keeps_the_range(fashion_mnist_raw):
    train_iter, test_iter = data.load_fashion_mnist(64, resize=32)
    X, y = next(iter(test_iter))
    assert X.shape == (64, 1, 32, 32) and y.shape == (64,)
    assert 0 <= X.min() and X.max() <= 1 + 1e-6
    assert train_iter.tensors[0].shape == (60000, 1, 32, 32)
