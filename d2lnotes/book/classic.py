"""The classic edition's helper names (English 0.17, Chinese 2nd edition), chapters 2-4.

Each name keeps the book's signature, return type and numerics, and maps onto a core piece:

==============================  ==============================================================
book name                       core piece
==============================  ==============================================================
``load_data_fashion_mnist``     ``utils.data.load_fashion_mnist`` (in-memory, no workers)
``load_array``                  ``utils.data.ArrayLoader``
``synthetic_data``              ``utils.data.synthetic_data``
``get_fashion_mnist_labels``    ``utils.data.fashion_mnist_labels``
``accuracy``                    ``utils.train.num_correct`` (a count, as in the book)
``evaluate_accuracy``           ``utils.train.evaluate`` (a fraction)
``train_epoch_ch3``             the book's own backward convention, see its docstring
``Animator``                    ``utils.plot.new_figure`` + ``utils.plot.save``
``DATA_HUB``, ``DATA_URL``      ``utils.hub``'s own (the same objects)
``download``                    ``utils.hub.verified_copy``, else ``utils.hub.fetch``
``download_extract``            ``download``, then ``utils.hub.extract``
==============================  ==============================================================

``plot``, ``show_images`` and ``predict_ch3`` draw on pyplot, as the book does; pyplot is
imported on first use (``d2l.plt`` included), never by ``import d2lnotes``.
"""

import os
import time
from pathlib import Path

import torch

from ..utils import data as _data
from ..utils import hub
from ..utils import train as _train
from ..utils.hub import DATA_HUB, DATA_URL
from . import figures

__all__ = [
    # plotting (§2.4, §3.5, §3.6)
    "use_svg_display", "set_figsize", "set_axes", "plot", "show_images", "Animator",
    # utilities
    "Timer", "Accumulator",
    # chapter 3
    "synthetic_data", "linreg", "squared_loss", "sgd", "load_array",
    "get_fashion_mnist_labels", "get_dataloader_workers", "load_data_fashion_mnist",
    "accuracy", "evaluate_accuracy", "train_epoch_ch3", "train_ch3", "predict_ch3",
    # chapter 4
    "evaluate_loss", "DATA_HUB", "DATA_URL", "download", "download_extract", "download_all",
    "try_gpu", "try_all_gpus",
    # the tensor aliases of the book's `#@tab all` cells
    "tensor", "reshape", "reduce_sum", "reduce_mean", "argmax", "astype", "size", "numpy",
    "to", "transpose", "float32", "int32", "ones", "zeros", "normal", "rand", "randn",
    "arange", "linspace", "matmul", "concat", "stack", "exp", "log", "sin", "sinh", "cos",
    "cosh", "tanh", "abs", "eye", "meshgrid",
]
# ``plt`` is exported too, lazily: see ``lazy_attribute`` (d2lnotes.d2l's ``__getattr__``).

# --- pyplot, on first use ----------------------------------------------------------------


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def lazy_attribute(name):
    """``plt`` (matplotlib.pyplot), imported when first asked for; AttributeError otherwise."""
    if name == "plt":
        return _pyplot()
    raise AttributeError(f"module 'd2lnotes.d2l' has no attribute {name!r}")


# --- plotting -------------------------------------------------------------------------------


def use_svg_display():
    """Show figures as SVG in Jupyter (§2.4); does nothing outside a notebook."""
    if figures.in_notebook():
        from matplotlib_inline import backend_inline

        backend_inline.set_matplotlib_formats("svg")


def set_figsize(figsize=(3.5, 2.5)):
    """Set pyplot's default figure size (§2.4)."""
    use_svg_display()
    _pyplot().rcParams["figure.figsize"] = figsize


def set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend):
    """Label, scale, limit and grid one matplotlib ``axes`` (§2.4)."""
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_xscale(xscale)
    axes.set_yscale(yscale)
    axes.set_xlim(xlim)
    axes.set_ylim(ylim)
    if legend:
        axes.legend(legend)
    axes.grid()


def _has_one_axis(X):
    return (hasattr(X, "ndim") and X.ndim == 1
            or isinstance(X, list) and (not X or not hasattr(X[0], "__len__")))


def plot(X, Y=None, xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None,
         xscale="linear", yscale="linear", fmts=("-", "m--", "g-.", "r:"),
         figsize=(3.5, 2.5), axes=None):
    """Plot one or more curves on ``axes`` (default: pyplot's current axes) (§2.4).

    ``Y`` alone plots against the index 0, 1, ...; a 1-D ``X`` is shared by every curve.
    """
    set_figsize(figsize)
    axes = axes if axes else _pyplot().gca()
    if _has_one_axis(X):
        X = [X]
    if Y is None:
        X, Y = [[]] * len(X), X
    elif _has_one_axis(Y):
        Y = [Y]
    if len(X) != len(Y):
        X = X * len(Y)
    axes.cla()
    for x, y, fmt in zip(X, Y, fmts):
        if len(x):
            axes.plot(x, y, fmt)
        else:
            axes.plot(y, fmt)
    set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend or [])


def show_images(imgs, num_rows, num_cols, titles=None, scale=1.5):
    """A ``num_rows`` x ``num_cols`` grid of images on pyplot; return the axes (§3.5)."""
    _, axes = _pyplot().subplots(num_rows, num_cols,
                                 figsize=(num_cols * scale, num_rows * scale))
    axes = axes.flatten() if hasattr(axes, "flatten") else [axes]
    for i, (ax, img) in enumerate(zip(axes, imgs)):
        ax.imshow(img.detach().cpu().numpy() if torch.is_tensor(img) else img)
        ax.axes.get_xaxis().set_visible(False)
        ax.axes.get_yaxis().set_visible(False)
        if titles:
            ax.set_title(titles[i])
    return axes


_animator_count = [0]


class Animator:
    """Curves that grow point by point (§3.6), e.g. a loss per epoch.

    In Jupyter the figure is redrawn in place after every ``add``. In a terminal each ``add``
    prints one line (x and the legend's values), and when ``x`` reaches ``xlim[1]`` the
    figure is written as a PNG (``path``, default ``figures.png_path``: ``$D2LNOTES_BOOK_OUT``
    or ``d2lnotes-out/book/animator-N.png``) and its path printed; ``save()`` writes it earlier.
    """

    def __init__(self, xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None,
                 xscale="linear", yscale="linear", fmts=("-", "m--", "g-.", "r:"), nrows=1,
                 ncols=1, figsize=(3.5, 2.5), path=None):
        from ..utils.plot import new_figure

        self.fig, axes = new_figure(nrows, ncols, figsize=figsize)
        self.axes = list(axes.flat) if hasattr(axes, "flat") else [axes]
        self.legend = list(legend or [])
        self.xlabel = xlabel
        self.config_axes = lambda: set_axes(self.axes[0], xlabel, ylabel, xlim, ylim, xscale,
                                            yscale, self.legend)
        self.X, self.Y, self.fmts = None, None, fmts
        self.xlim, self.path, self.written = xlim, path, None
        self.notebook = figures.in_notebook()
        self._handle = None
        _animator_count[0] += 1
        self.number = _animator_count[0]

    def add(self, x, y):
        """Append one point to each curve (``None`` skips a curve) and redraw."""
        if not hasattr(y, "__len__"):
            y = [y]
        n = len(y)
        if not hasattr(x, "__len__"):
            x = [x] * n
        if not self.X:
            self.X = [[] for _ in range(n)]
        if not self.Y:
            self.Y = [[] for _ in range(n)]
        for i, (a, b) in enumerate(zip(x, y)):
            if a is not None and b is not None:
                self.X[i].append(a)
                self.Y[i].append(b)
        self.axes[0].cla()
        for xs, ys, fmt in zip(self.X, self.Y, self.fmts):
            self.axes[0].plot(xs, ys, fmt)
        self.config_axes()
        if self.notebook:
            from ..utils.plot import display_in_place

            self._handle = display_in_place(self.fig, self._handle)
            return
        if self.written is None:
            figures.track(self)
        names = self.legend + [f"y{i + 1}" for i in range(len(self.legend), n)]
        values = ", ".join(f"{name} {float(b):.4g}" for name, b in zip(names, y) if b is not None)
        print(f"{self.xlabel or 'x'} {x[0]:g}: {values}", flush=True)
        if self.xlim is not None and x[0] >= self.xlim[1]:
            self.save()

    def save(self, path=None):
        """Write the figure as a PNG, print and return its path."""
        from ..utils.plot import save

        path = Path(path or self.path or figures.png_path("animator", self.number))
        figures.untrack(self)
        self.written = figures.wrote(save(self.fig, path))
        print(f"figure: {self.written}", flush=True)
        return self.written


# --- utilities ------------------------------------------------------------------------------


class Timer:
    """Record several running times (§3.2)."""

    def __init__(self):
        self.times = []
        self.start()

    def start(self):
        """Start the timer."""
        self.tik = time.time()

    def stop(self):
        """Stop the timer, record the time and return it."""
        self.times.append(time.time() - self.tik)
        return self.times[-1]

    def avg(self):
        """The average recorded time."""
        return sum(self.times) / len(self.times)

    def sum(self):
        """The total recorded time."""
        return sum(self.times)

    def cumsum(self):
        """The running totals, as a list."""
        out, total = [], 0.0
        for t in self.times:
            total += t
            out.append(total)
        return out


class Accumulator:
    """Running sums of ``n`` numbers (§3.6): ``add`` converts each to float."""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]


# --- chapter 3 ------------------------------------------------------------------------------


def synthetic_data(w, b, num_examples):
    """``y = Xw + b + eps``, ``eps ~ N(0, 0.01^2)``; ``y`` of shape ``(num_examples, 1)`` (§3.2)."""
    return _data.synthetic_data(w, b, num_examples)


def linreg(X, w, b):
    """The linear regression model ``Xw + b`` (§3.2)."""
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    """``(y_hat - y)^2 / 2`` per example, ``y`` reshaped to ``y_hat`` (§3.2)."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    """Minibatch SGD, ``param -= lr * grad / batch_size``, then zero the gradient (§3.2).

    The book's losses are summed over the batch before ``backward``, hence the division.
    """
    if isinstance(batch_size, bool) or not batch_size >= 1:
        raise ValueError(f"sgd: batch_size must be at least 1, got {batch_size!r}")
    with torch.no_grad():
        for param in params:
            if param.grad is None:
                raise ValueError("sgd: a parameter has no gradient; call backward() on the "
                                 "loss first, and give the parameters requires_grad=True")
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def load_array(data_arrays, batch_size, is_train=True):
    """Minibatches of in-memory tensors, shuffled every pass when ``is_train`` (§3.3)."""
    return _data.ArrayLoader(data_arrays, batch_size, shuffle=is_train)


def get_fashion_mnist_labels(labels):
    """Text labels of Fashion-MNIST's numeric labels (§3.5)."""
    return _data.fashion_mnist_labels(labels)


def get_dataloader_workers():
    """Worker processes for a torch ``DataLoader`` (§3.5): the book's 4.

    ``load_data_fashion_mnist`` needs none: its batches are cut from tensors in memory.
    """
    return 4


def load_data_fashion_mnist(batch_size, resize=None):
    """``(train_iter, test_iter)`` over Fashion-MNIST (§3.5), in memory and offline.

    Batches are ``(B, 1, 28, 28)`` (or ``resize``) float32 in [0, 1] and int64 labels; the
    training set is reshuffled on every pass. The data are found as d2lnotes finds them
    (``$D2LNOTES_DATA``, else ``./data``, else the system copy, else a download).
    """
    return _data.load_fashion_mnist(batch_size, resize=resize)


def accuracy(y_hat, y):
    """The *number* of correct predictions, as a float (§3.6); divide by ``len(y)``."""
    return float(_train.num_correct(y_hat, y))


def evaluate_accuracy(net, data_iter):
    """The fraction of ``data_iter`` that ``net`` classifies correctly (§3.6)."""
    return _train.evaluate(net, data_iter)[1]


def _is_optimizer(updater):
    return isinstance(updater, torch.optim.Optimizer)


def train_epoch_ch3(net, train_iter, loss, updater):
    """One epoch; return ``(mean training loss, training accuracy)`` (§3.6).

    The book's two conventions, kept exactly: a ``torch.optim`` optimizer gets
    ``zero_grad``, ``l.mean().backward()``, ``step``; any other updater gets
    ``l.sum().backward()`` and then ``updater(X.shape[0])`` (which divides by the batch
    size, like :func:`sgd`). That sum-then-divide convention is why this is not the core
    loop (``utils.train.train``, which always takes the mean). As there, the figures are
    kept as tensors and read back once per epoch.
    """
    if isinstance(net, torch.nn.Module):
        net.train()
    if not (_is_optimizer(updater) or callable(updater)):
        raise TypeError(f"train_epoch_ch3: updater must be a torch.optim optimizer or a "
                        f"function of the batch size, got {type(updater).__name__}")
    loss_sums, corrects, n = [], [], 0
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        if _is_optimizer(updater):
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        loss_sums.append(l.detach().sum())
        corrects.append(_train.num_correct(y_hat.detach(), y))
        n += y.numel()
    if n == 0:
        raise ValueError("train_epoch_ch3: train_iter gave no batches")
    total = torch.stack(loss_sums).sum()
    correct = torch.stack(corrects).sum()
    return float(total) / n, float(correct) / n


def train_ch3(net, train_iter, test_iter, loss, num_epochs, updater):
    """Train for ``num_epochs``, drawing loss and accuracies on an :class:`Animator` (§3.6).

    Ends with the book's sanity checks (final training loss below 0.5, accuracies in
    (0.7, 1]); a failed check raises ``AssertionError`` saying what was expected and got.
    """
    animator = Animator(xlabel="epoch", xlim=[1, num_epochs], ylim=[0.3, 0.9],
                        legend=["train loss", "train acc", "test acc"])
    for epoch in range(num_epochs):
        train_metrics = train_epoch_ch3(net, train_iter, loss, updater)
        test_acc = evaluate_accuracy(net, test_iter)
        animator.add(epoch + 1, train_metrics + (test_acc,))
    train_loss, train_acc = train_metrics
    checks = [(train_loss < 0.5, f"the final training loss is {train_loss:.4f}, expected "
                                 f"below 0.5"),
              (0.7 < train_acc <= 1, f"the final training accuracy is {train_acc:.4f}, "
                                     f"expected above 0.7"),
              (0.7 < test_acc <= 1, f"the final test accuracy is {test_acc:.4f}, expected "
                                    f"above 0.7")]
    failed = [what for ok, what in checks if not ok]
    if failed:
        raise AssertionError(f"train_ch3's sanity check (the book's): {'; '.join(failed)}; "
                             f"after {num_epochs} epochs, try more epochs or another lr")


def predict_ch3(net, test_iter, n=6):
    """Show the first ``n`` test images titled with true and predicted labels (§3.6)."""
    X, y = next(iter(test_iter))
    trues = get_fashion_mnist_labels(y)
    with torch.no_grad():
        preds = get_fashion_mnist_labels(net(X).argmax(axis=1))
    titles = [true + "\n" + pred for true, pred in zip(trues, preds)]
    show_images(X[0:n].reshape((n, 28, 28)), 1, n, titles=titles[0:n])


# --- chapter 4 ------------------------------------------------------------------------------


@torch.no_grad()
def evaluate_loss(net, data_iter, loss):
    """The loss of ``net`` averaged over every element of ``data_iter`` (§4.4)."""
    total, count = 0.0, 0
    for X, y in data_iter:
        out = net(X)
        l = loss(out, y.reshape(out.shape))
        total += float(l.sum())
        count += l.numel()
    return total / count


def download(name, cache_dir=None):
    """Return the local path of ``DATA_HUB[name]``, downloading it only if needed (§4.10).

    A file with the right SHA-1 is looked for in d2lnotes' data folder (its ``kaggle_house/``
    and itself), in ``cache_dir``, and in the book's own ``../data``. A download goes to
    ``cache_dir`` (default: d2lnotes' data folder) through ``hub.fetch``: whole and verified.
    """
    if name not in DATA_HUB:
        raise KeyError(f"{name!r} is not in DATA_HUB (known: {', '.join(sorted(DATA_HUB))}); "
                       "add it first: DATA_HUB[name] = (url, sha1)")
    url, sha1_hash = DATA_HUB[name]
    fname = url.split("/")[-1]
    root = _data.data_root()
    target = Path(cache_dir) if cache_dir else root
    found = hub.verified_copy(fname, [root / "kaggle_house", root, target, hub.book_data()],
                              sha1_hash)
    if found is not None:
        return str(found)
    return str(hub.fetch(url, target / fname, sha1_hash))


def download_extract(name, folder=None):
    """Download a zip or tar archive of ``DATA_HUB`` and extract it beside itself (§4.10).

    ``hub.extract`` checks every member first: one outside that folder, a device, FIFO or
    setuid file, or an archive expanding far beyond its size is refused with ``DataError``.
    """
    fname = download(name)
    base_dir = os.path.dirname(fname)
    hub.extract(fname, base_dir)
    return os.path.join(base_dir, folder) if folder else os.path.splitext(fname)[0]


def download_all():
    """Download every file of ``DATA_HUB`` (§4.10)."""
    for name in DATA_HUB:
        download(name)


def try_gpu(i=0):
    """``cuda:i`` if it exists, else the CPU (§5.6; used by §4.x exercises)."""
    if torch.cuda.device_count() >= i + 1:
        return torch.device(f"cuda:{i}")
    return torch.device("cpu")


def try_all_gpus():
    """Every GPU, or ``[cpu]`` without one."""
    devices = [torch.device(f"cuda:{i}") for i in range(torch.cuda.device_count())]
    return devices if devices else [torch.device("cpu")]


# --- the tensor aliases (the book's `#@tab all` cells) --------------------------------------

ones, zeros, tensor, arange, meshgrid = torch.ones, torch.zeros, torch.tensor, torch.arange, \
    torch.meshgrid
sin, sinh, cos, cosh, tanh = torch.sin, torch.sinh, torch.cos, torch.cosh, torch.tanh
linspace, exp, log, normal, rand, randn = (torch.linspace, torch.exp, torch.log, torch.normal,
                                           torch.rand, torch.randn)
matmul, int32, float32, concat, stack, abs, eye = (torch.matmul, torch.int32, torch.float32,
                                                   torch.cat, torch.stack, torch.abs, torch.eye)


def tensor_method(method):
    """The book's function form of a tensor method: ``alias(x, *args)`` is ``x.method(*args)``."""
    def alias(x, *args, **kwargs):
        return getattr(x, method)(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = method
    alias.__doc__ = f"``x.{method}(*args, **kwargs)``"
    return alias


size, reshape, to, transpose = (tensor_method("numel"), tensor_method("reshape"),
                                tensor_method("to"), tensor_method("t"))
reduce_sum, reduce_mean, argmax, astype = (tensor_method("sum"), tensor_method("mean"),
                                           tensor_method("argmax"), tensor_method("type"))


def numpy(x, *args, **kwargs):
    """``x`` as a NumPy array, detached from autograd first."""
    return x.detach().numpy(*args, **kwargs)
