"""The book's 1.0 (object-oriented) helpers: ``Module``, ``DataModule``, ``Trainer``, ...

The English edition 1.0 (chapters 2-5) trains every model through three classes: a
``Module`` (model, loss, optimizer), a ``DataModule`` (loaders) and a ``Trainer`` (the
loop). Its cells then replace single methods with ``@d2l.add_to_class(d2l.Trainer)``, so
the classes here keep the book's attribute protocol (``trainer.model``, ``trainer.optim``,
``trainer.train_batch_idx``, ``model.board``, ``model.trainer``, ``hparams``, ...).

Each name maps to a core piece:

- ``FashionMNIST`` serves ``utils.data``'s in-memory tensors (no PIL, no workers);
- ``DataModule.get_tensorloader`` and every loader is a ``utils.data.ArrayLoader``;
- ``ProgressBoard`` draws with ``utils.plot`` (no pyplot): in Jupyter it redraws in place,
  in a terminal the ``Trainer`` prints one line per epoch and the board writes a PNG;
- ``download`` and ``extract`` are ``utils.hub``'s verified fetch and safe extract.
"""

import atexit
import collections
import contextlib
import inspect
import os
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from ..utils import data as _data
from ..utils import hub
from ..utils.hub import DATA_URL
from . import figures
from .classic import download as classic_download
from .classic import show_images, tensor_method, try_all_gpus, try_gpu  # one contract for both

__all__ = [
    "DATA_URL", "Classifier", "DataModule", "FashionMNIST", "HyperParameters",
    "LinearRegression", "LinearRegressionScratch", "Module", "ProgressBoard", "SGD",
    "SoftmaxRegression", "SyntheticRegressionData", "Trainer", "add_to_class", "cpu",
    "download", "extract", "gpu", "init_cnn", "nn_Module", "num_gpus", "try_all_gpus",
    "try_gpu", "save_unfinished_boards",
    # tensor aliases of the 1.0 edition that the classic one lacks
    "int64", "sigmoid", "ones_like", "zeros_like", "batch_matmul", "expand_dims", "swapaxes",
    "repeat",
]

nn_Module = nn.Module

int64, sigmoid = torch.int64, torch.sigmoid
ones_like, zeros_like, batch_matmul = torch.ones_like, torch.zeros_like, torch.bmm


expand_dims, swapaxes, repeat = (tensor_method("unsqueeze"), tensor_method("swapaxes"),
                                 tensor_method("repeat"))


# --- utilities (§3.2.1) -------------------------------------------------------------------


def add_to_class(Class):
    """Decorator: attach the function to ``Class`` as a method (§3.2.1).

    The book splits a class over several cells this way; a method attached to a class
    here replaces it for every instance, existing ones included.
    """
    def wrapper(obj):
        setattr(Class, obj.__name__, obj)
    return wrapper


class HyperParameters:
    """Base class whose ``save_hyperparameters`` keeps the caller's arguments (§3.2.1)."""

    def save_hyperparameters(self, ignore=()):
        """Store the calling ``__init__``'s arguments as attributes and in ``self.hparams``.

        Names in ``ignore``, ``self`` and names starting with ``_`` are skipped.
        """
        frame = inspect.currentframe().f_back
        skip = set(ignore) | {"self"}
        self.hparams = {k: v for k, v in frame.f_locals.items()
                        if k not in skip and not k.startswith("_")}
        for k, v in self.hparams.items():
            setattr(self, k, v)


# --- the progress board (§3.2.1, §B.2) ------------------------------------------------------

Point = collections.namedtuple("Point", ["x", "y"])

# Boards with points not yet in a PNG (figures.unsaved) are written when training ends, after
# the IPython cell that drew them (python -m d2lnotes book), or at exit.
_board_count = 0
_hooked_shells = set()


def _next_board_path(folder):
    """``folder/board-NN.png``, prefixed by the cell that ``python -m d2lnotes book`` runs."""
    global _board_count
    _board_count += 1
    return figures.png_path("board", f"{_board_count:02d}", folder)


def _save_after_each_cell():
    """In IPython, finish the boards a cell drew when it ends: a PNG in a terminal shell, the
    last redraw (skipped by the throttle) in a notebook."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython else None
    if shell is None or id(shell) in _hooked_shells:
        return
    _hooked_shells.add(id(shell))

    def save_boards(result=None):
        if figures.in_runner():  # the runner saves them, and a failure fails the cell
            return
        for board in figures.unsaved(ProgressBoard, in_notebook=None):
            board.save()

    shell.events.register("post_run_cell", save_boards)


def _as_float(y):
    if isinstance(y, torch.Tensor):
        return float(y.detach().cpu().reshape(-1)[0]) if y.numel() == 1 else float(y.mean())
    return float(y)


class ProgressBoard(HyperParameters):
    """Training curves drawn point by point, each point the mean of ``every_n`` values (§3.2.1).

    In Jupyter the figure is redrawn in place. In a terminal nothing is drawn while points
    arrive; :meth:`save` (called by ``Trainer.fit`` at its end, or at exit) writes the PNG.
    ``data[label]`` holds the drawn points as ``Point(x, y)``, as in the book.
    """

    def __init__(self, xlabel=None, ylabel=None, xlim=None, ylim=None, xscale="linear",
                 yscale="linear", ls=("-", "--", "-.", ":"), colors=("C0", "C1", "C2", "C3"),
                 fig=None, axes=None, figsize=(3.5, 2.5), display=True):
        self.save_hyperparameters()
        self.raw_points = collections.OrderedDict()
        self.data = collections.OrderedDict()
        self.notebook = figures.in_notebook()
        self.path = None  # set by the first save
        self._out = None  # the output folder when the first point was drawn
        self._handle = None
        self._last_redraw = 0.0

    def draw(self, x, y, label, every_n=1):
        """Add ``(x, y)`` to the line ``label``; every ``every_n`` values make one drawn point."""
        points = self.raw_points.setdefault(label, [])
        line = self.data.setdefault(label, [])
        points.append(Point(float(x), _as_float(y)))
        if len(points) < max(int(every_n), 1):
            return
        line.append(Point(sum(p.x for p in points) / len(points),
                          sum(p.y for p in points) / len(points)))
        points.clear()
        if not self.display:
            return
        if self._out is None:
            self._out = figures.out_dir()
            _save_after_each_cell()
        figures.track(self)
        # Drawing a figure costs tens of milliseconds: at most a few redraws a second.
        if self.notebook and time.perf_counter() - self._last_redraw > 0.25:
            self.redraw()

    def figure(self):
        """The lines drawn so far, as a new Figure (or drawn into the ``axes`` given)."""
        if self.axes is not None:
            fig, ax = self.axes.figure, self.axes
            ax.cla()
        else:
            from ..utils.plot import new_figure  # matplotlib on first drawing, not at import

            fig, ax = new_figure(figsize=self.figsize)
        styles = zip(self.data.items(), list(self.ls) * 10, list(self.colors) * 10)
        for (label, line), ls, color in styles:
            ax.plot([p.x for p in line], [p.y for p in line], linestyle=ls, color=color,
                    label=label, marker="o" if len(line) == 1 else None)
        if self.xlim:
            ax.set_xlim(self.xlim)
        if self.ylim:
            ax.set_ylim(self.ylim)
        ax.set(xlabel=self.xlabel or "", ylabel=self.ylabel or "", xscale=self.xscale,
               yscale=self.yscale)
        if self.data:
            ax.legend()
        return fig

    def redraw(self):
        """Show the figure in Jupyter, replacing the previous drawing of this board."""
        from ..utils.plot import display_in_place

        self._last_redraw = time.perf_counter()
        self._handle = display_in_place(self.figure(), self._handle)

    def summary(self):
        """The last drawn value of every line, e.g. ``train_loss 0.512, val_acc 0.811``."""
        return ", ".join(f"{label} {line[-1].y:.4g}" for label, line in self.data.items()
                         if line)

    def save(self, path=None):
        """Write the figure as a PNG (atomically) and return its path; ``None`` if empty.

        In Jupyter this is a final redraw instead, unless a ``path`` is given.
        """
        figures.untrack(self)
        if not any(self.data.values()):
            return None
        if self.notebook and path is None:
            self.redraw()
            return None
        if path:
            self.path = Path(path)
        elif self.path is None:
            self.path = _next_board_path(self._out)
        from ..utils.plot import save

        return figures.wrote(save(self.figure(), self.path))  # the runner lists it under the cell


def save_unfinished_boards(folder, prefix):
    """Write every terminal board with points not yet in a PNG to ``folder/prefix-board-N.png``.

    For a runner that saves a cell's figures after the cell: boards that ``Trainer.fit``
    did not finish, e.g. one drawn by hand. Returns the paths written.
    """
    paths = []
    for k, board in enumerate(figures.unsaved(ProgressBoard), 1):
        paths.append(board.save(Path(folder) / f"{prefix}-board-{k}.png"))
    return [p for p in paths if p]


@atexit.register
def _save_unsaved_boards():
    for board in figures.unsaved(ProgressBoard):
        with contextlib.suppress(Exception):  # at exit, a failed figure must not mask others
            path = board.save()
            if path:
                print(f"figure: {path}", flush=True)


# --- Module, DataModule, Trainer (§3.2.2-3.2.4) ---------------------------------------------


class Module(nn_Module, HyperParameters):
    """Base class of models: ``forward``, ``loss``, ``training_step``, optimizer (§3.2.2)."""

    def __init__(self, plot_train_per_epoch=2, plot_valid_per_epoch=1):
        super().__init__()
        self.save_hyperparameters()
        self.board = ProgressBoard()

    def loss(self, y_hat, y):
        raise NotImplementedError(f"{type(self).__name__} defines no loss; "
                                  "add one with @d2l.add_to_class")

    def forward(self, X):
        if not hasattr(self, "net"):
            raise AttributeError(f"{type(self).__name__} has no self.net; define forward "
                                 "or set self.net in __init__")
        return self.net(X)

    def plot(self, key, value, train):
        """Send ``value`` to the board, ``plot_*_per_epoch`` points an epoch (§3.2.2)."""
        if not hasattr(self, "trainer"):
            raise AttributeError("the model has no trainer yet; train it with "
                                 "Trainer.fit(model, data) before plotting")
        self.board.xlabel = "epoch"
        if train:
            x = self.trainer.train_batch_idx / self.trainer.num_train_batches
            n = self.trainer.num_train_batches / self.plot_train_per_epoch
        else:
            x = self.trainer.epoch + 1
            n = self.trainer.num_val_batches / self.plot_valid_per_epoch
        self.board.draw(x, value, ("train_" if train else "val_") + key, every_n=int(n))

    def training_step(self, batch):
        l = self.loss(self(*batch[:-1]), batch[-1])
        self.plot("loss", l, train=True)
        return l

    def validation_step(self, batch):
        l = self.loss(self(*batch[:-1]), batch[-1])
        self.plot("loss", l, train=False)

    def configure_optimizers(self):
        """Minibatch SGD with ``self.lr`` (§4.3)."""
        return torch.optim.SGD(self.parameters(), lr=self.lr)

    def apply_init(self, inputs, init=None):
        """Run one forward pass (materialising lazy layers), then ``self.net.apply(init)``."""
        self.forward(*inputs)
        if init is not None:
            self.net.apply(init)


class DataModule(HyperParameters):
    """Base class of data: ``train_dataloader`` and ``val_dataloader`` (§3.2.3).

    ``root`` defaults to d2lnotes' data folder (``$D2LNOTES_DATA``, else ``./data``), not the
    book's ``../data``; ``num_workers`` is kept for the book's code and never used.
    """

    def __init__(self, root=None, num_workers=4):
        self.save_hyperparameters()
        self.root = str(_data.data_root(root))

    def get_dataloader(self, train):
        raise NotImplementedError(f"{type(self).__name__} defines no get_dataloader")

    def train_dataloader(self):
        return self.get_dataloader(train=True)

    def val_dataloader(self):
        return self.get_dataloader(train=False)

    def get_tensorloader(self, tensors, train, indices=slice(0, None)):
        """Minibatches of ``tensors[indices]``, shuffled for training (§3.3)."""
        tensors = tuple(t[indices] for t in tensors)
        return _data.ArrayLoader(tensors, self.batch_size, shuffle=train)


class Trainer(HyperParameters):
    """Train a ``Module`` on a ``DataModule``: ``fit`` runs ``fit_epoch`` per epoch (§3.2.4).

    Attributes the book's cells use: ``model``, ``optim``, ``train_dataloader``,
    ``val_dataloader``, ``num_train_batches``, ``num_val_batches``, ``epoch``,
    ``train_batch_idx``, ``val_batch_idx``, ``gpus``.
    """

    def __init__(self, max_epochs, num_gpus=0, gradient_clip_val=0):
        self.save_hyperparameters()
        self.gpus = [gpu(i) for i in range(min(num_gpus, torch.cuda.device_count()))]

    def prepare_data(self, data):
        self.train_dataloader = data.train_dataloader()
        self.val_dataloader = data.val_dataloader()
        self.num_train_batches = len(self.train_dataloader)
        self.num_val_batches = (len(self.val_dataloader)
                                if self.val_dataloader is not None else 0)

    def prepare_model(self, model):
        model.trainer = self
        model.board.xlim = [0, self.max_epochs]
        if self.gpus:
            model.to(self.gpus[0])
        self.model = model

    def fit(self, model, data):
        """Train; in a terminal print one line per epoch, then write the board's PNG."""
        self.prepare_data(data)
        self.prepare_model(model)
        self.optim = model.configure_optimizers()
        self.epoch = 0
        self.train_batch_idx = 0
        self.val_batch_idx = 0
        board = getattr(model, "board", None)
        report = board is not None and board.display and not board.notebook
        for epoch in range(self.max_epochs):
            self.epoch = epoch
            start = time.perf_counter()
            self.fit_epoch()
            if report:
                print(f"epoch {self.epoch + 1}/{self.max_epochs}: {board.summary()} "
                      f"({time.perf_counter() - start:.2f} s)", flush=True)
        if board is not None and board.display:
            path = board.save()
            if path:
                print(f"figure: {path}", flush=True)

    def prepare_batch(self, batch):
        if self.gpus:
            batch = [a.to(self.gpus[0]) for a in batch]
        return batch

    def fit_epoch(self):
        """One pass over the training data, then one over the validation data (§3.4)."""
        self.model.train()
        for batch in self.train_dataloader:
            loss = self.model.training_step(self.prepare_batch(batch))
            self.optim.zero_grad()
            with torch.no_grad():
                loss.backward()
                if self.gradient_clip_val > 0:
                    self.clip_gradients(self.gradient_clip_val, self.model)
                self.optim.step()
            self.train_batch_idx += 1
        if self.val_dataloader is None:
            return
        self.model.eval()
        for batch in self.val_dataloader:
            with torch.no_grad():
                self.model.validation_step(self.prepare_batch(batch))
            self.val_batch_idx += 1

    def clip_gradients(self, grad_clip_val, model):
        """Rescale the gradients so that their joint norm is at most ``grad_clip_val`` (§9.5)."""
        params = [p for p in model.parameters() if p.requires_grad and p.grad is not None]
        norm = torch.sqrt(sum(torch.sum(p.grad ** 2) for p in params))
        if norm > grad_clip_val:
            for p in params:
                p.grad[:] *= grad_clip_val / norm


# --- linear regression (§3.3-3.5) ------------------------------------------------------------


class SyntheticRegressionData(DataModule):
    """``y = Xw + b + eps`` with ``X ~ N(0, 1)``, ``eps ~ N(0, noise^2)`` (§3.3)."""

    def __init__(self, w, b, noise=0.01, num_train=1000, num_val=1000, batch_size=32):
        super().__init__()
        self.save_hyperparameters()
        n = num_train + num_val
        self.X = torch.randn(n, len(w))
        self.y = self.X @ torch.as_tensor(w).reshape(-1, 1) + b + torch.randn(n, 1) * noise

    def get_dataloader(self, train):
        i = slice(0, self.num_train) if train else slice(self.num_train, None)
        return self.get_tensorloader((self.X, self.y), train, i)


class SGD(HyperParameters):
    """Minibatch SGD, ``param -= lr * param.grad`` (§3.4); the loss is already a mean."""

    def __init__(self, params, lr):
        self.save_hyperparameters()

    @torch.no_grad()
    def step(self):
        for param in self.params:
            param -= self.lr * param.grad

    def zero_grad(self):
        for param in self.params:
            if param.grad is not None:
                param.grad.zero_()


class LinearRegressionScratch(Module):
    """``y_hat = Xw + b``, ``w ~ N(0, sigma^2)``, ``b = 0``, loss ``mean((y_hat - y)^2) / 2`` (§3.4)
    """

    def __init__(self, num_inputs, lr, sigma=0.01):
        super().__init__()
        self.save_hyperparameters()
        self.w = torch.normal(0, sigma, (num_inputs, 1), requires_grad=True)
        self.b = torch.zeros(1, requires_grad=True)

    def forward(self, X):
        return X @ self.w + self.b

    def loss(self, y_hat, y):
        return ((y_hat - y) ** 2 / 2).mean()

    def configure_optimizers(self):
        return SGD([self.w, self.b], self.lr)


def _init_once(module, init):
    """Apply ``init(module)`` right after a lazy layer gets its shape, before its first use."""
    def hook(mod, args):
        handle.remove()
        init(mod)
    handle = module.register_forward_pre_hook(hook)  # runs after the lazy layer's own hook
    return module


def _normal_weight_zero_bias(layer):
    with torch.no_grad():
        layer.weight.normal_(0, 0.01)
        layer.bias.zero_()


class LinearRegression(Module):
    """``nn.LazyLinear(1)`` with weights ``N(0, 0.01^2)``, bias 0, and ``nn.MSELoss`` (§3.5)."""

    def __init__(self, lr):
        super().__init__()
        self.save_hyperparameters()
        self.net = _init_once(nn.LazyLinear(1), _normal_weight_zero_bias)

    def forward(self, X):
        return self.net(X)

    def loss(self, y_hat, y):
        return F.mse_loss(y_hat, y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), self.lr)

    def get_w_b(self):
        return self.net.weight.data, self.net.bias.data


# --- classification (§4.2-4.5) --------------------------------------------------------------

_fashion_cache = {}


def _fashion_tensors(root):
    """Fashion-MNIST as uint8 images and int64 labels, read once per process and root."""
    key = str(Path(root).resolve())
    if key not in _fashion_cache:
        _fashion_cache[key] = _data.read_fashion_mnist(root)
    return _fashion_cache[key]


class FashionMNIST(DataModule):
    """Fashion-MNIST from d2lnotes' in-memory tensors (§4.2).

    ``train`` and ``val`` are datasets of ``(image (1, H, W) float32 in [0, 1], label int64)``;
    the loaders cut batches from the whole split. ``resize`` is honoured (bilinear).
    ``root`` (not in the book) is the data folder, default d2lnotes' own.
    """

    def __init__(self, batch_size=64, resize=(28, 28), root=None):
        super().__init__(root=root)
        self.save_hyperparameters(ignore=["root"])
        X_train, y_train, X_val, y_val = _fashion_tensors(self.root)
        size = (resize, resize) if isinstance(resize, int) else tuple(resize)

        def prepare(X):
            X = X.unsqueeze(1).to(torch.float32).div_(255)
            if size != (28, 28):
                X = F.interpolate(X, size=size, mode="bilinear", antialias=True)
            return X

        self.train = torch.utils.data.TensorDataset(prepare(X_train), y_train)
        self.val = torch.utils.data.TensorDataset(prepare(X_val), y_val)

    def text_labels(self, indices):
        """Numeric labels to their names (§4.2)."""
        return _data.fashion_mnist_labels(indices)

    def get_dataloader(self, train):
        dataset = self.train if train else self.val
        return _data.ArrayLoader(dataset.tensors, self.batch_size, shuffle=train)

    def visualize(self, batch, nrows=1, ncols=8, labels=()):
        """Show the first ``nrows * ncols`` images of ``batch`` with their labels (§4.2)."""
        X, y = batch
        if not labels:
            labels = self.text_labels(y)
        show_images(X.squeeze(1), nrows, ncols, titles=labels)


class Classifier(Module):
    """Base class of classifiers: cross-entropy loss, accuracy on validation (§4.3)."""

    def validation_step(self, batch):
        Y_hat = self(*batch[:-1])
        self.plot("loss", self.loss(Y_hat, batch[-1]), train=False)
        self.plot("acc", self.accuracy(Y_hat, batch[-1]), train=False)

    def accuracy(self, Y_hat, Y, averaged=True):
        """``mean(argmax(Y_hat) == Y)``, or the 0/1 per example with ``averaged=False`` (§4.3)."""
        Y_hat = Y_hat.reshape(-1, Y_hat.shape[-1])
        preds = Y_hat.argmax(dim=1).type(Y.dtype)
        compare = (preds == Y.reshape(-1)).type(torch.float32)
        return compare.mean() if averaged else compare

    def loss(self, Y_hat, Y, averaged=True):
        """Cross-entropy of the logits ``Y_hat`` (§4.5)."""
        Y_hat = Y_hat.reshape(-1, Y_hat.shape[-1])
        return F.cross_entropy(Y_hat, Y.reshape(-1), reduction="mean" if averaged else "none")

    def layer_summary(self, X_shape):
        """Print each layer's output shape for an input of ``X_shape`` (§7.6)."""
        X = torch.randn(*X_shape)
        for layer in self.net:
            X = layer(X)
            print(layer.__class__.__name__, "output shape:\t", X.shape)


class SoftmaxRegression(Classifier):
    """Flatten, then ``nn.LazyLinear(num_outputs)``; the loss takes the logits (§4.5)."""

    def __init__(self, num_outputs, lr):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Flatten(), nn.LazyLinear(num_outputs))

    def forward(self, X):
        return self.net(X)


def init_cnn(module):
    """Xavier-uniform weights for ``nn.Linear`` and ``nn.Conv2d`` layers (§7.6)."""
    if type(module) in (nn.Linear, nn.Conv2d):
        nn.init.xavier_uniform_(module.weight)


# --- devices (§6.7) ---------------------------------------------------------------------------


def cpu():
    return torch.device("cpu")


def gpu(i=0):
    return torch.device(f"cuda:{i}")


def num_gpus():
    return torch.cuda.device_count()


# --- downloads (§B.2) -------------------------------------------------------------------------


def download(url, folder=None, sha1_hash=None, cache_dir=None):
    """Return the local path of ``url`` in ``folder``, fetching it only when no good copy exists.

    Takes both editions' calls: 1.0's ``download(url, folder, sha1_hash)`` and the classic
    ``download(name, cache_dir=...)`` with a ``DATA_HUB`` name. With a hash, a copy in
    d2lnotes' data folder or in the book's ``../data`` is copied into ``folder`` (one line
    says from where) instead of a download; a download goes through ``hub.fetch``.
    """
    folder = folder if folder is not None else cache_dir
    if "://" not in str(url):  # a DATA_HUB name
        return classic_download(url, folder)
    path = Path(folder if folder is not None else _data.data_root()) / url.split("/")[-1]
    if path.is_file() and (sha1_hash is None or hub.sha1_of(path) == sha1_hash):
        return str(path)
    root = _data.data_root()
    copy = sha1_hash and hub.verified_copy(path.name, [root, root / "kaggle_house",
                                                       hub.book_data()], sha1_hash)
    if copy:
        hub.atomic_copy(copy, path)
        print(f"d2lnotes: {path.name} from {copy.resolve()} (SHA-1 checked), copied to {path}",
              file=sys.stderr)
        return str(path)
    return str(hub.fetch(url, path, sha1_hash))


def extract(filename, folder=None):
    """Extract a zip or tar file into ``folder`` (default: the file's own folder).

    ``hub.extract`` checks every member first: one outside ``folder``, a device, FIFO or
    setuid file, or an archive expanding far beyond its size is refused with ``DataError``.
    """
    hub.extract(filename, folder if folder is not None else os.path.dirname(filename))
