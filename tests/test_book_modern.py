"""The book's 1.0 API in d2lnotes.d2l, exercised with our own 1.0-style code (not the book's)."""

import hashlib
import io
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import torch
from torch import nn

from d2lnotes import d2l
from d2lnotes.book import modern
from d2lnotes.utils.errors import D2LError, DataError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def out(tmp_path, monkeypatch):
    """Boards write into a fresh folder; cell-style overrides of Trainer are undone."""
    monkeypatch.setenv("D2LNOTES_BOOK_OUT", str(tmp_path / "out"))
    saved = dict(vars(modern.Trainer))
    yield tmp_path / "out"
    for name in set(vars(modern.Trainer)) - set(saved):
        delattr(modern.Trainer, name)
    for name, value in saved.items():
        if name not in ("__dict__", "__weakref__"):
            setattr(modern.Trainer, name, value)


class LineData(d2l.DataModule):
    """``y = 3 x1 - 2 x2 + 1`` plus a little noise, 96 training and 32 validation rows."""

    def __init__(self, batch_size=16):
        super().__init__()
        self.save_hyperparameters()
        self.X = torch.randn(128, 2)
        self.y = self.X @ torch.tensor([[3.0], [-2.0]]) + 1 + 0.01 * torch.randn(128, 1)

    def get_dataloader(self, train):
        rows = slice(0, 96) if train else slice(96, None)
        return self.get_tensorloader((self.X, self.y), train, rows)


class Line(d2l.Module):
    """A linear model kept in two raw tensors, trained by the book's SGD class."""

    def __init__(self, lr):
        super().__init__()
        self.save_hyperparameters()
        self.w = torch.zeros(2, 1, requires_grad=True)
        self.b = torch.zeros(1, requires_grad=True)

    def forward(self, X):
        return X @ self.w + self.b

    def loss(self, y_hat, y):
        return ((y_hat - y) ** 2).mean() / 2

    def configure_optimizers(self):
        return d2l.SGD([self.w, self.b], self.lr)


def test_save_hyperparameters_keeps_arguments_but_ignored_and_private_ones():
    class Config(d2l.HyperParameters):
        def __init__(self, a, b, _hidden=1, c=3):
            self.save_hyperparameters(ignore=["c"])

    config = Config(1, b=[2])
    assert config.hparams == {"a": 1, "b": [2]}
    assert (config.a, config.b) == (1, [2])
    assert not hasattr(config, "c") and not hasattr(config, "_hidden")


@pytest.mark.slow
def test_a_cell_style_fit_epoch_override_trains_through_the_attribute_protocol(out):
    torch.manual_seed(0)
    seen = []

    @d2l.add_to_class(d2l.Trainer)
    def fit_epoch(self):
        # what a reader's cell may touch, read and written as the book does
        seen.append((self.epoch, self.train_batch_idx, self.model.trainer is self))
        self.model.train()
        for batch in self.train_dataloader:
            loss = self.model.training_step(self.prepare_batch(batch))
            self.optim.zero_grad()
            loss.backward()
            self.optim.step()
            self.train_batch_idx += 1
        for batch in self.val_dataloader:
            with torch.no_grad():
                self.model.validation_step(self.prepare_batch(batch))
            self.val_batch_idx += 1

    data, model = LineData(), Line(lr=0.3)
    trainer = d2l.Trainer(max_epochs=8)
    trainer.fit(model, data)
    assert [s[0] for s in seen] == list(range(8))
    assert [s[1] for s in seen] == list(range(0, 48, 6))  # 96 rows in batches of 16
    assert all(s[2] for s in seen)
    assert (trainer.num_train_batches, trainer.num_val_batches) == (6, 2)
    assert trainer.val_batch_idx == 8 * 2
    assert torch.allclose(model.w.detach().flatten(), torch.tensor([3.0, -2.0]), atol=0.05)
    assert model.board.xlim == [0, 8]
    # two training points and one validation point per epoch (plot_*_per_epoch)
    assert [len(model.board.data[k]) for k in ("train_loss", "val_loss")] == [16, 8]
    assert model.board.path is not None and model.board.path.read_bytes()[:8] == PNG_MAGIC


@pytest.mark.slow
def test_default_fit_takes_the_same_steps_as_a_plain_loop(out):
    """Trainer.fit with SoftmaxRegression == a hand-written loop over the same batches."""
    torch.manual_seed(1)
    X, y = torch.rand(200, 1, 4, 4), torch.randint(0, 3, (200,))

    class Tiny(d2l.DataModule):
        def __init__(self):
            super().__init__()
            self.batch_size = 32

        def get_dataloader(self, train):
            rows = slice(0, 160) if train else slice(160, None)
            return self.get_tensorloader((X, y), train, rows)

    model = d2l.SoftmaxRegression(num_outputs=3, lr=0.5)
    model.board.display = False  # the board is tested on its own
    model(X[:1])  # materialise the lazy layer
    reference = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    reference.load_state_dict(model.net.state_dict())
    torch.manual_seed(2)
    d2l.Trainer(max_epochs=3).fit(model, Tiny())

    torch.manual_seed(2)
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.5)
    for _ in range(3):
        for index in torch.randperm(160).split(32):  # the ArrayLoader's shuffle
            loss = nn.functional.cross_entropy(reference(X[index]), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    for a, b in zip(model.net.parameters(), reference.parameters()):
        assert torch.equal(a, b)


def test_classifier_accuracy_and_loss():
    model = d2l.Classifier()
    Y_hat = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    Y = torch.tensor([1, 1, 1, 0])
    assert model.accuracy(Y_hat, Y).item() == pytest.approx(0.75)
    per_example = model.accuracy(Y_hat, Y, averaged=False)
    assert per_example.dtype == torch.float32 and per_example.tolist() == [1, 0, 1, 1]
    # a sequence of predictions is flattened first
    assert model.accuracy(Y_hat.reshape(2, 2, 2), Y.reshape(2, 2)).item() == pytest.approx(0.75)
    assert torch.allclose(model.loss(Y_hat, Y),
                          -torch.log_softmax(Y_hat, 1)[range(4), Y].mean())
    assert model.loss(Y_hat, Y, averaged=False).shape == (4,)


@pytest.mark.slow
def test_linear_regression_starts_small_and_learns(out):
    torch.manual_seed(3)
    model = d2l.LinearRegression(lr=0.03)
    data = d2l.SyntheticRegressionData(w=torch.tensor([2, -3.4]), b=4.2)
    model(data.X[:1])
    w, b = model.get_w_b()
    assert w.abs().max() < 0.1 and b.item() == 0  # N(0, 0.01^2) and 0, as the book says
    d2l.Trainer(max_epochs=3).fit(model, data)
    w, b = model.get_w_b()
    assert torch.allclose(w.flatten(), torch.tensor([2, -3.4]), atol=0.05)
    assert b.item() == pytest.approx(4.2, abs=0.05)


@pytest.mark.slow
def test_fashion_mnist_has_the_books_shapes_and_dtypes(fashion_mnist_raw):
    data = d2l.FashionMNIST(batch_size=256)
    assert (len(data.train), len(data.val)) == (60000, 10000)
    image, label = data.train[0]
    assert image.shape == (1, 28, 28) and label.dtype == torch.int64
    X, y = next(iter(data.train_dataloader()))
    assert X.shape == (256, 1, 28, 28) and X.dtype == torch.float32
    assert 0 <= X.min() and X.max() <= 1
    assert y.shape == (256,) and y.dtype == torch.int64
    assert len(data.train_dataloader()) == 235 and len(data.val_dataloader()) == 40
    first = [next(iter(data.train_dataloader()))[1] for _ in range(2)]
    assert not torch.equal(*first)  # training batches are reshuffled
    val = [next(iter(data.val_dataloader()))[1] for _ in range(2)]
    assert torch.equal(*val)
    assert data.text_labels([0, 9]) == ["t-shirt", "ankle boot"]
    resized = d2l.FashionMNIST(batch_size=8, resize=(32, 32))
    X, _ = next(iter(resized.val_dataloader()))
    assert X.shape == (8, 1, 32, 32) and X.dtype == torch.float32


def test_progress_board_averages_every_n_and_writes_a_png_headless(out, capsys):
    board = d2l.ProgressBoard("x")
    for x in range(6):
        board.draw(x, torch.tensor(float(x * x)), "square", every_n=3)
    assert [(p.x, p.y) for p in board.data["square"]] == [(1, 5 / 3), (4, 50 / 3)]
    path = board.save()
    assert path.parent == out and path.read_bytes()[:8] == PNG_MAGIC
    assert list(out.glob(".*.part")) == []
    # a runner's after-cell hook: only boards with unsaved points are written
    board.draw(6, 1.0, "square", every_n=1)
    paths = modern.save_unfinished_boards(out, "cell03")
    assert paths == [out / "cell03-board-1.png"] and paths[0].read_bytes()[:8] == PNG_MAGIC
    assert modern.save_unfinished_boards(out, "cell04") == []
    hidden = d2l.ProgressBoard(display=False)
    hidden.draw(0, 1.0, "y")
    assert modern.save_unfinished_boards(out, "cell05") == []


@pytest.mark.slow
def test_fit_prints_one_line_per_epoch_in_a_terminal(out, capsys):
    d2l.Trainer(max_epochs=3).fit(Line(lr=0.1), LineData())
    lines = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("epoch ") for line in lines) == 3
    assert len(list(out.glob("*.png"))) == 1


def test_download_takes_both_editions_calls(tmp_path, monkeypatch):
    root = tmp_path / "data"
    (root / "kaggle_house").mkdir(parents=True)
    content = b"Id,SalePrice\n1,100\n"
    (root / "kaggle_house" / "house.csv").write_bytes(content)
    sha1 = hashlib.sha1(content).hexdigest()
    monkeypatch.setenv("D2LNOTES_DATA", str(root))

    monkeypatch.setenv("D2LNOTES_DATA_URL", "http://127.0.0.1:9/")  # no network: a closed port
    # 1.0: a URL, a folder and a hash; the copy d2lnotes holds is used, written atomically
    path = d2l.download(d2l.DATA_URL + "house.csv", str(tmp_path / "cache"), sha1_hash=sha1)
    assert Path(path) == tmp_path / "cache" / "house.csv"
    assert Path(path).read_bytes() == content
    # a copy with the wrong hash is not used, and the failed fetch is one clear error
    with pytest.raises(DataError, match="could not be downloaded"):
        d2l.download(d2l.DATA_URL + "house.csv", str(tmp_path / "other"), sha1_hash="0" * 40)
    # classic: a DATA_HUB name
    monkeypatch.setitem(d2l.DATA_HUB, "house", (d2l.DATA_URL + "house.csv", sha1))
    assert Path(d2l.download("house")).read_bytes() == content


def test_extract_refuses_members_outside_the_folder(tmp_path):
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    with pytest.raises(D2LError, match="outside"):
        d2l.extract(str(archive), str(tmp_path / "into"))
    assert not (tmp_path / "escaped.txt").exists()


NOTEBOOK_CELLS = [
    # the source notebooks' tab idiom: only the PyTorch tab's cells and branches run
    "%load_ext d2lnotes.book.tab",
    "%%tab mxnet, tensorflow\nfrom d2l import mxnet as d2l",
    "%%tab pytorch\n%matplotlib inline\nfrom d2l import torch as d2l\nimport torch\n"
    "assert tab.selected('pytorch') and not tab.selected('mxnet', 'jax')",
    # a DataModule and a Module split over cells, as the 1.0 chapters do
    "class Pairs(d2l.DataModule):\n"
    "    def __init__(self, batch_size=8):\n"
    "        super().__init__()\n"
    "        self.save_hyperparameters()\n"
    "        self.X = torch.randn(64, 3)\n"
    "        self.y = self.X.sum(1, keepdim=True)\n"
    "    def get_dataloader(self, train):\n"
    "        i = slice(0, 48) if train else slice(48, None)\n"
    "        return self.get_tensorloader((self.X, self.y), train, i)",
    "class Sum(d2l.Module):\n"
    "    def __init__(self, lr):\n"
    "        super().__init__()\n"
    "        self.save_hyperparameters()\n"
    "        self.net = torch.nn.Linear(3, 1)",
    "@d2l.add_to_class(Sum)\n"
    "def loss(self, y_hat, y):\n"
    "    return ((y_hat - y) ** 2).mean()",
    "@d2l.add_to_class(d2l.Trainer)\n"
    "def prepare_batch(self, batch):\n"
    "    return batch",
    "model = Sum(lr=0.1)\n"
    "d2l.Trainer(max_epochs=3).fit(model, Pairs())\n"
    "assert model.board.data['val_loss'][-1].y < model.board.data['val_loss'][0].y",
    # a board drawn by hand, outside any Trainer: written when its cell ends
    "board = d2l.ProgressBoard('x')\n"
    "for x in range(10):\n"
    "    board.draw(x, x * x, 'square', every_n=2)",
]


@pytest.mark.slow
def test_a_small_1_0_notebook_runs_through_the_book_command(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in NOTEBOOK_CELLS])
    path = tmp_path / "oo.ipynb"
    nbformat.write(notebook, path)
    out = tmp_path / "figures"
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-m", "d2lnotes", "book", str(path), "--out", str(out)],
                          capture_output=True, text=True, cwd=root, timeout=120,
                          env={**__import__("os").environ, "PYTHONPATH": str(root)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == ["oo-cell08-board-01.png", "oo-cell09-board-02.png"]
    assert all((out / name).read_bytes()[:8] == PNG_MAGIC for name in pngs)
    assert "cell 9/9: ok" in proc.stdout and str(out / pngs[1]) in proc.stdout


@pytest.mark.slow
def test_linear_regression_scratch_learns(out):
    torch.manual_seed(4)
    model = d2l.LinearRegressionScratch(2, lr=0.03)
    assert model.w.shape == (2, 1) and model.w.abs().max() < 0.1 and model.b.item() == 0
    d2l.Trainer(max_epochs=8).fit(model, d2l.SyntheticRegressionData(w=torch.tensor([2, -3.4]),
                                                                     b=4.2))
    assert torch.allclose(model.w.detach().flatten(), torch.tensor([2, -3.4]), atol=0.1)


def _check_init_cnn():
    layer = nn.Linear(50, 30)
    before = layer.weight.detach().clone()
    layer.apply(d2l.init_cnn)
    bound = (6 / (50 + 30)) ** 0.5  # Xavier-uniform
    return not torch.equal(before, layer.weight) and layer.weight.abs().max() <= bound


X4 = torch.arange(6.0).reshape(2, 3)

# Every 1.0 name: the test that exercises it, or a check of its own.
CHECKS = {
    "HyperParameters": test_save_hyperparameters_keeps_arguments_but_ignored_and_private_ones,
    **dict.fromkeys(["Module", "DataModule", "Trainer", "add_to_class", "SGD"],
                    test_a_cell_style_fit_epoch_override_trains_through_the_attribute_protocol),
    "SoftmaxRegression": test_default_fit_takes_the_same_steps_as_a_plain_loop,
    "Classifier": test_classifier_accuracy_and_loss,
    **dict.fromkeys(["LinearRegression", "SyntheticRegressionData"],
                    test_linear_regression_starts_small_and_learns),
    "LinearRegressionScratch": test_linear_regression_scratch_learns,
    "FashionMNIST": test_fashion_mnist_has_the_books_shapes_and_dtypes,
    **dict.fromkeys(["ProgressBoard", "save_unfinished_boards"],
                    test_progress_board_averages_every_n_and_writes_a_png_headless),
    **dict.fromkeys(["download", "DATA_URL"], test_download_takes_both_editions_calls),
    "extract": test_extract_refuses_members_outside_the_folder,
    "init_cnn": _check_init_cnn,
    "nn_Module": lambda: d2l.nn_Module is nn.Module and issubclass(d2l.Module, nn.Module),
    "cpu": lambda: d2l.cpu() == torch.device("cpu"),
    "gpu": lambda: d2l.gpu(1) == torch.device("cuda:1"),
    "num_gpus": lambda: d2l.num_gpus() == torch.cuda.device_count(),
    "try_gpu": lambda: d2l.try_gpu(99) == torch.device("cpu"),
    "try_all_gpus": lambda: len(d2l.try_all_gpus()) >= 1,
    "int64": lambda: d2l.int64 is torch.int64,
    "sigmoid": lambda: torch.equal(d2l.sigmoid(X4), torch.sigmoid(X4)),
    "ones_like": lambda: torch.equal(d2l.ones_like(X4), torch.ones(2, 3)),
    "zeros_like": lambda: torch.equal(d2l.zeros_like(X4), torch.zeros(2, 3)),
    "batch_matmul": lambda: d2l.batch_matmul(torch.ones(4, 2, 3), torch.ones(4, 3, 5)).shape
    == (4, 2, 5),
    "expand_dims": lambda: d2l.expand_dims(X4, 0).shape == (1, 2, 3),
    "swapaxes": lambda: torch.equal(d2l.swapaxes(X4, 0, 1), X4.T),
    "repeat": lambda: d2l.repeat(X4, 2, 1).shape == (4, 3),
}


@pytest.mark.parametrize("name", sorted(modern.__all__))
def test_every_1_0_name_is_exported_and_checked(name):
    assert getattr(d2l, name) is getattr(modern, name)  # not shadowed by the classic names
    check = CHECKS[name]  # a KeyError here: a new export without a check
    if not check.__name__.startswith("test_"):  # a test runs on its own
        assert check() is not False, name
