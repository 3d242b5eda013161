"""The one training loop, evaluation, and the tools that compare scratch with concise.

``train`` serves every model in the package: a scratch model is anything callable with a
``parameters()`` method, a scratch optimizer anything with ``step()`` and ``zero_grad()``,
exactly like their ``torch.nn`` / ``torch.optim`` twins. Scratch models that behave
differently in training and evaluation (dropout) offer ``train(mode)`` like ``nn.Module``.
"""

import contextlib
import os
import time
from dataclasses import asdict, dataclass, field

import torch

from .data import ArrayLoader, load_fashion_mnist
from .errors import DivergenceError, UsageError

# Torch threads for training. These models are small: on an idle 2-core machine a second
# thread saves ~25% of an epoch, but as soon as another process runs it costs 2-10x, because
# each step waits for the thread that the other process has preempted (``python -m
# d2lnotes.bench`` times both). One thread also keeps a seed's numbers the same whatever
# the number of cores.
DEFAULT_THREADS = 1
THREADS_ENV = "D2LNOTES_THREADS"
MAX_THREADS = 1024


def num_threads():
    """Torch threads d2lnotes trains with: ``$D2LNOTES_THREADS`` (1 to 1024), else one."""
    text = os.environ.get(THREADS_ENV, "").strip()
    if not text:
        return DEFAULT_THREADS
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= MAX_THREADS:
        raise UsageError(f"{THREADS_ENV}={text!r} is not a thread count; set it to a whole "
                         f"number from 1 to {MAX_THREADS}, or unset it for one thread")
    return n


@contextlib.contextmanager
def torch_threads(n=None):
    """Run the block on ``n`` torch threads (default :func:`num_threads`), then restore."""
    n = num_threads() if n is None else n
    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield n
    finally:
        if n != before:
            torch.set_num_threads(before)


@dataclass
class History:
    """Per-epoch numbers of one training run; the accuracy lists stay empty for regression."""

    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)
    seconds: list = field(default_factory=list)

    def as_dict(self):
        return asdict(self)


def num_correct(y_hat, y):
    """Number of rows whose arg-max (or value, for one column) equals the label, as a tensor."""
    if y_hat.ndim == 2 and y_hat.shape[1] > 1 and y.ndim == 1:
        return (y_hat.argmax(dim=1) == y).sum()  # the common case in three ops, not five
    if y_hat.ndim > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(dim=1)
    return (y_hat.reshape(y.shape).to(y.dtype) == y).sum()


def accuracy(y_hat, y):
    """Fraction of correct predictions, ``mean(argmax(y_hat) == y)`` (§3.6)."""
    if len(y) == 0:
        raise ValueError("accuracy: no examples (y is empty), so no fraction is defined")
    return num_correct(y_hat, y).item() / len(y)


def _set_mode(net, training):
    if callable(getattr(net, "train", None)):
        net.train(training)


def _is_classification(y):
    return not (torch.is_floating_point(y) or torch.is_complex(y))


# Evaluation needs no gradients, so it can afford big batches: fewer, larger matrix
# products cost far less per example than the training batch size would.
EVAL_BATCH_SIZE = 8192


def _eval_batches(data_iter):
    """Batches of an unshuffled :class:`ArrayLoader` in chunks of ``EVAL_BATCH_SIZE`` or more."""
    if isinstance(data_iter, ArrayLoader) and not data_iter.shuffle:
        bs = max(data_iter.batch_size, EVAL_BATCH_SIZE)
        return iter(ArrayLoader(data_iter.tensors, bs, shuffle=False))
    return iter(data_iter)


@torch.inference_mode()
def evaluate(net, data_iter, loss=None):
    """Return ``(mean loss, accuracy)`` of ``net`` over ``data_iter`` in evaluation mode.

    The loss is ``None`` without ``loss``; the accuracy is ``None`` for float targets.
    An unshuffled :class:`ArrayLoader` is read in chunks of at least ``EVAL_BATCH_SIZE``.
    """
    _set_mode(net, False)
    total_loss, correct, n, classify = 0.0, 0, 0, False
    for X, y in _eval_batches(data_iter):
        y_hat = net(X)
        if loss is not None:
            total_loss = total_loss + loss(y_hat, y).mean() * len(y)
        classify = _is_classification(y)
        if classify:
            correct = correct + num_correct(y_hat, y)
        n += len(y)
    if n == 0:
        raise ValueError("evaluate: the data iterator gave no examples")
    mean_loss = float(total_loss / n) if loss is not None else None
    return mean_loss, (float(correct / n) if classify else None)


def _lr_of(optimizer):
    groups = getattr(optimizer, "param_groups", None)
    return groups[0]["lr"] if groups else getattr(optimizer, "lr", "?")


class _EpochTally:
    """Bookkeeping of one epoch, kept out of the loop's way.

    Each batch only queues work: its loss and number of correct predictions stay tensors
    in lists, summed once per epoch, so nothing waits on a GPU between training steps.
    """

    def __init__(self):
        self.losses, self.sizes, self.corrects, self.classify = [], [], [], False

    def add(self, l, y_hat, y):
        self.losses.append(l.detach())
        self.sizes.append(len(y))
        self.classify = _is_classification(y)
        if self.classify:
            self.corrects.append(num_correct(y_hat.detach(), y))

    def finish(self, history, epoch, optimizer):
        """Append the epoch's mean loss (and accuracy); a non-finite loss is a DivergenceError."""
        if not self.losses:
            raise ValueError("train: train_iter gave no batches; is the dataset empty?")
        losses = torch.stack(self.losses)
        n = sum(self.sizes)
        # sum_b len(batch_b) * mean loss of batch_b = the summed per-example loss
        total_loss = losses @ torch.tensor(self.sizes, dtype=losses.dtype, device=losses.device)
        bad = torch.nonzero(~torch.isfinite(losses))
        if len(bad):
            b = int(bad[0])
            if epoch == 1 and b == 0:
                # The first loss is computed before the first step: lr cannot be the cause.
                raise DivergenceError(
                    f"the training loss was {losses[b].item()} at epoch 1, batch 1, before "
                    "any step was taken, so the learning rate is not the cause; look at the "
                    "inputs (NaN or infinite values, or unscaled ones that overflow exp) and "
                    "the loss (log(0) in a hand-written cross-entropy, say)")
            raise DivergenceError(
                f"the training loss became {losses[b].item()} at epoch {epoch}, batch "
                f"{b + 1}; try a smaller learning rate than lr={_lr_of(optimizer)}")
        history.train_loss.append(float(total_loss / n))
        if self.classify:
            history.train_acc.append(float(torch.stack(self.corrects).sum() / n))


def _progress_bar():
    """tqdm's widget in Jupyter when ipywidgets is installed, else its text bar.

    (``tqdm.auto`` in a notebook without ipywidgets warns "IProgress not found" and falls
    back to text anyway; this falls back quietly.)
    """
    from .plot import in_notebook

    if in_notebook():
        try:
            import ipywidgets  # noqa: F401
        except ImportError:
            from tqdm.std import tqdm
            return tqdm
    from tqdm.auto import tqdm
    return tqdm


def train(net, train_iter, test_iter, loss, num_epochs, optimizer, *, quiet=False,
          callback=None, desc="train", threads=None):
    """Minibatch SGD on ``mean(loss(net(X), y))`` for ``num_epochs`` epochs; return a History.

    The loss may be per example (the book's scratch losses) or already a mean (``nn``
    losses): the loop takes ``.mean()`` either way. The loss is read back once per epoch,
    not per batch; a non-finite value raises :class:`DivergenceError` naming the first
    bad epoch and batch. ``callback(history)`` runs after every epoch. It runs on
    ``threads`` torch threads (default :func:`num_threads`) and restores torch's setting.
    """
    tqdm = _progress_bar()
    history = History()
    bar = tqdm(total=num_epochs * len(train_iter), desc=desc, unit="batch", leave=False,
               disable=True if quiet else None)
    with torch_threads(threads), contextlib.closing(bar):
        for epoch in range(1, num_epochs + 1):
            start = time.perf_counter()
            _set_mode(net, True)
            tally = _EpochTally()
            for X, y in train_iter:
                # The five lines of every training step (§3.4, §3.6):
                y_hat = net(X)                  # forward
                l = loss(y_hat, y).mean()       # loss
                optimizer.zero_grad()           # forget the last batch's gradients
                l.backward()                    # backward
                optimizer.step()                # update
                tally.add(l, y_hat, y)
                bar.update()
            tally.finish(history, epoch, optimizer)
            if test_iter is not None:
                test_loss, test_acc = evaluate(net, test_iter, loss)
                history.test_loss.append(test_loss)
                if test_acc is not None:
                    history.test_acc.append(test_acc)
            history.seconds.append(time.perf_counter() - start)
            if callback is not None:
                callback(history)
    return history


# --- comparing a scratch model with its concise twin -------------------------------------
#
# Seeds. A comparison draws every random number from one ``seed``:
#   seed      the initial parameters (for §4.4-4.5: the synthetic data);
#   seed + 1  the shuffles, reset before each version, so all versions see the same
#             batches in the same order (and, where they draw any, the same random numbers);
#   seed + 2  the initial parameters when the data were drawn from ``seed`` first; the
#             same stream again would make the first weights a copy of the first features.
SHUFFLE_SEED_OFFSET = 1
INIT_AFTER_DATA_SEED_OFFSET = 2


@dataclass
class Comparison:
    """Histories and trained nets of several versions of one model, and their parameter gap.

    ``max_param_diff`` is the gap after the last epoch (None when the versions cannot be
    compared parameter by parameter, as with dropout); ``extra["param_diff_per_epoch"]``
    the gap after each epoch. ``extra`` also holds results particular to one experiment.
    """

    histories: dict
    nets: dict
    max_param_diff: float | None = None
    extra: dict = field(default_factory=dict)


def max_param_diff(params_a, params_b):
    """``max_i |a_i - b_i|`` over paired parameter tensors of the same shapes."""
    params_a, params_b = list(params_a), list(params_b)
    if len(params_a) != len(params_b):
        raise ValueError(f"{len(params_a)} parameters against {len(params_b)}")
    return max(float((a.detach() - b.detach()).abs().max()) for a, b in zip(params_a, params_b))


@torch.no_grad()
def copy_into_linear(linear, W, b=None):
    """Load a scratch layer ``X @ W + b`` into ``nn.Linear``, whose weight is ``W.T``."""
    linear.weight.copy_(W.T)
    if b is not None:
        linear.bias.copy_(b.reshape(linear.bias.shape))


def fashion_mnist_or(data, batch_size, caller, device=None, book_batch_size=256):
    """``data`` (``(train_iter, test_iter)``) if given, else Fashion-MNIST at ``batch_size``
    (the book's when None). Given both, their batch sizes must agree, or ValueError."""
    if data is None:
        return load_fashion_mnist(batch_size or book_batch_size, device=device)
    given = getattr(data[0], "batch_size", None)
    if batch_size is not None and given is not None and given != batch_size:
        raise ValueError(f"{caller}: batch_size={batch_size} but data's train_iter has batches "
                         f"of {given}; leave batch_size out to train on data as it is, or "
                         f"load data with batch_size {batch_size}")
    return data


def compare(versions, train_iter, test_iter, num_epochs, *, seed=0, layout=None, quiet=True,
            callback=None):
    """Train each ``name: (net, loss, optimizer)`` on the same batches; return a Comparison.

    The caller builds the versions from the same start (:func:`compare_twins` copies the
    scratch parameters into the concise net). Before each version the global generator is
    reset to ``seed + SHUFFLE_SEED_OFFSET``, so every version sees the same shuffles. ``layout``
    maps a version to its parameters in one shared layout (``nn.Linear.weight.T`` for
    the scratch ``W``); with two or more versions it gives the gap after every epoch.
    ``callback(name, history)`` runs after every epoch of every version.
    """
    snapshots = {name: [] for name in versions}
    histories = {}
    for name, (net, loss, optimizer) in versions.items():
        def each_epoch(history, name=name):
            if layout is not None:
                snapshots[name].append([p.detach().clone() for p in layout[name]])
            if callback is not None:
                callback(name, history)

        torch.manual_seed(seed + SHUFFLE_SEED_OFFSET)
        histories[name] = train(net, train_iter, test_iter, loss, num_epochs, optimizer,
                                quiet=quiet, desc=name, callback=each_epoch)
    nets = {name: v[0] for name, v in versions.items()}
    if layout is None or len(versions) < 2:
        return Comparison(histories, nets)
    a, b = list(snapshots.values())[:2]
    gaps = [max_param_diff(x, y) for x, y in zip(a, b)]
    # no epochs (num_epochs=0): no gap to report yet
    return Comparison(histories, nets, gaps[-1] if gaps else None, {"param_diff_per_epoch": gaps})


@dataclass
class Twin:
    """One version of a model for :func:`compare_twins`: the net, its loss, its optimizer.

    ``params`` are its parameters in the layout the two versions share (``nn.Linear.weight.T``
    for a scratch ``W``); by default ``net.parameters()``.
    """

    net: object
    loss: object
    optimizer: object
    params: list | None = None

    def __post_init__(self):
        self.params = list(self.net.parameters() if self.params is None else self.params)


def compare_twins(scratch, concise, train_iter, test_iter, num_epochs, *, seed=0, impl="both",
                  names=("scratch", "concise"), gap=True, quiet=True, callback=None):
    """Copy the scratch parameters into the concise twin, then :func:`compare` the two.

    ``scratch`` and ``concise`` are :class:`Twin` s built by the caller (after seeding, so
    that the scratch init is the book's draw). ``impl`` keeps one of ``names`` or
    ``"both"``; ``gap=False`` skips the parameter gap (dropout masks differ, so the runs
    part anyway), but the twins still start from the same parameters.
    """
    first, second = scratch.params, concise.params
    shapes = [(tuple(a.shape), tuple(b.shape)) for a, b in zip(first, second)]
    if len(first) != len(second) or any(a != b for a, b in shapes):
        raise ValueError(f"compare_twins: the parameter layouts differ: {shapes}")
    with torch.no_grad():
        for mine, twin in zip(first, second):
            twin.copy_(mine)  # into a view such as weight.T, which writes the weight
    versions = {name: t for name, t in zip(names, (scratch, concise)) if impl in ("both", name)}
    layout = {name: t.params for name, t in versions.items()} if gap else None
    return compare({name: (t.net, t.loss, t.optimizer) for name, t in versions.items()},
                   train_iter, test_iter, num_epochs, seed=seed, layout=layout, quiet=quiet,
                   callback=callback)
