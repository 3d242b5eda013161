"""Data: synthetic regression data (§3.2), in-memory batching (§3.3) and Fashion-MNIST (§3.5).

Fashion-MNIST is read once, straight from its IDX files, kept as one tensor per split, and
batched by slicing with a shuffled index. No per-image decoding, no worker processes: an epoch of
softmax regression costs a fraction of a second instead of several seconds.
"""

import gzip
import math
import os
import shutil
import struct
from pathlib import Path

import torch

from .errors import DataError
from .io import atomic_path

# Debian's and Ubuntu's `dataset-fashion-mnist` package puts the four .gz files here.
# Their .gz bytes differ from torchvision's checksums; the decompressed files are the same.
SYSTEM_DIRS = [Path("/usr/share/datasets/fashion-mnist")]

# name -> (IDX magic number, number of items, bytes per item, header length)
FASHION_MNIST_FILES = {
    "train-images-idx3-ubyte": (2051, 60000, 28 * 28, 16),
    "train-labels-idx1-ubyte": (2049, 60000, 1, 8),
    "t10k-images-idx3-ubyte": (2051, 10000, 28 * 28, 16),
    "t10k-labels-idx1-ubyte": (2049, 10000, 1, 8),
}

TEXT_LABELS = ["t-shirt", "trouser", "pullover", "dress", "coat",
               "sandal", "shirt", "sneaker", "bag", "ankle boot"]


def synthetic_data(w, b, num_examples, noise=0.01):
    """Draw ``y = Xw + b + eps`` with ``X ~ N(0, 1)``, ``eps ~ N(0, noise^2)`` (§3.2).

    Returns ``X`` of shape ``(num_examples, len(w))`` and ``y`` of shape ``(num_examples, 1)``.
    """
    w = torch.as_tensor(w, dtype=torch.float32)
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = X @ w + b
    y += torch.normal(0, noise, y.shape)
    return X, y.reshape(-1, 1)


class ArrayLoader:
    """Re-iterable minibatches of in-memory tensors, cut by index slicing (§3.3).

    Each pass draws a fresh permutation from torch's global generator, so
    ``torch.manual_seed`` fixes the batch order. A ``batch_size`` larger than the data
    gives one batch holding everything.
    """

    def __init__(self, tensors, batch_size, shuffle=True):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        tensors = tuple(tensors)
        sizes = {len(t) for t in tensors}
        if len(sizes) != 1:
            raise ValueError(f"all tensors need the same first dimension, got {sorted(sizes)}")
        self.tensors, self.batch_size, self.shuffle = tensors, batch_size, shuffle
        self.num_examples = sizes.pop()

    def __len__(self):
        return math.ceil(self.num_examples / self.batch_size)

    def __iter__(self):
        n, bs = self.num_examples, self.batch_size
        if not self.shuffle:
            for i in range(0, n, bs):
                yield tuple(t[i:i + bs] for t in self.tensors)
            return
        # The permutation is drawn on the CPU (the same batches on every device) and moved
        # once per epoch; index_select gathers rows about twice as fast as t[batch].
        indices = torch.randperm(n).to(self.tensors[0].device)
        for i in range(0, n, bs):
            batch = indices[i:i + bs]
            yield tuple(t.index_select(0, batch) for t in self.tensors)


def load_array(data_arrays, batch_size, shuffle=True):
    """Wrap tensors in an :class:`ArrayLoader` (the book's ``load_array``, §3.3)."""
    return ArrayLoader(data_arrays, batch_size, shuffle)


def announce(what, source, dest):
    """Say on stderr, once per import or download, what came from where, to where, how big."""
    import sys

    dest = Path(dest)
    files = [dest] if dest.is_file() else [p for p in dest.iterdir() if p.is_file()]
    size = sum(p.stat().st_size for p in files) / 1e6
    print(f"d2lnotes: {what} ({size:.1f} MB) from {source} to {dest} (move it with "
          "--data-dir or D2LNOTES_DATA)", file=sys.stderr)


def data_root(root=None):
    """Where datasets live: ``root``, else ``$D2LNOTES_DATA``, else ``./data`` if it exists
    (a checkout's), else the per-user cache ``$XDG_CACHE_HOME/d2lnotes`` (``~/.cache/d2lnotes``).

    So a notebook in any folder shares one copy instead of growing a ``data/`` of its own.
    """
    if root or os.environ.get("D2LNOTES_DATA"):
        return Path(root or os.environ["D2LNOTES_DATA"])
    if Path("data").is_dir():
        return Path("data")
    cache = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(cache) if os.path.isabs(cache) else Path.home() / ".cache") / "d2lnotes"


def check_idx(path, magic, count, item_size, header):
    """Return what is wrong with an IDX file, or ``None`` if its header and size are right."""
    path = Path(path)
    if not path.is_file():
        return "missing"
    size = path.stat().st_size
    if size < header:
        return f"only {size} bytes"
    with open(path, "rb") as f:
        found_magic, found_count = struct.unpack(">II", f.read(8))
    if found_magic != magic:
        return f"magic number {found_magic}, expected {magic}"
    if found_count != count:
        return f"{found_count} items, expected {count}"
    expected = header + count * item_size
    if size != expected:
        return f"{size} bytes, expected {expected} (truncated or padded)"
    return None


def _import_gz(src, dest, spec):
    """Decompress ``src`` to ``dest`` atomically; return an error string or ``None``."""
    try:
        with atomic_path(dest) as tmp:
            with gzip.open(src, "rb") as fin, open(tmp, "wb") as fout:
                shutil.copyfileobj(fin, fout)
            problem = check_idx(tmp, *spec)
            if problem:
                raise DataError(problem)
    except (OSError, EOFError, DataError) as e:
        return f"{src}: {e}"
    return None


def ensure_fashion_mnist(root=None, download=True):
    """Make sure ``root/FashionMNIST/raw`` holds the four valid IDX files; return that folder.

    A missing or corrupt file is (re)imported from a system copy, else downloaded by
    torchvision. If neither works, raise :class:`DataError` saying how to get the data.
    """
    fresh = not (data_root(root) / "FashionMNIST" / "raw").is_dir()
    raw = data_root(root) / "FashionMNIST" / "raw"
    notes = []

    def problems():
        found = {name: check_idx(raw / name, *spec) for name, spec in FASHION_MNIST_FILES.items()}
        return {name: p for name, p in found.items() if p}

    bad = problems()
    for name, problem in bad.items():
        if problem != "missing":
            notes.append(f"{raw / name} was corrupt ({problem}) and is replaced")
            (raw / name).unlink()
    for system_dir in SYSTEM_DIRS:
        if not bad:
            break
        for name in list(bad):
            src = system_dir / f"{name}.gz"
            if src.is_file():
                raw.mkdir(parents=True, exist_ok=True)
                err = _import_gz(src, raw / name, FASHION_MNIST_FILES[name])
                if err:
                    notes.append(f"the system copy {err}")
        bad = problems()
    if bad and download:
        from torchvision.datasets import FashionMNIST

        try:
            FashionMNIST(str(data_root(root)), train=True, download=True)
        except Exception as e:  # torchvision raises several types for a failed download
            first_line = str(e).splitlines()[0] if str(e) else type(e).__name__
            notes.append(f"download failed: {first_line}")
        bad = problems()
    if bad:
        detail = "; ".join(notes + [f"{raw / n}: {p}" for n, p in bad.items()])
        raise DataError(
            f"Fashion-MNIST is not in {raw} ({detail}); get it by running "
            "'apt-get install dataset-fashion-mnist' (a system copy d2lnotes imports), "
            "by going online so torchvision can download it, or by pointing --data-dir or "
            "D2LNOTES_DATA at a folder that holds FashionMNIST/raw/*-ubyte"
        )
    if fresh:
        announce("Fashion-MNIST", next((f"the system copy {d}" for d in SYSTEM_DIRS
                                        if (d / "t10k-labels-idx1-ubyte.gz").is_file()),
                                       "torchvision's download"), raw)
    return raw


def read_idx(path, count, item_shape, header):
    """Read an IDX file of unsigned bytes as a uint8 tensor ``(count, *item_shape)``.

    The header was checked by :func:`check_idx`; the payload is one ``frombuffer`` (no
    torchvision: importing it pulls in ``torch._dynamo`` and costs seconds per run).
    """
    data = bytearray(Path(path).stat().st_size - header)
    with open(path, "rb") as f:
        f.seek(header)
        f.readinto(data)  # straight into the buffer: no second copy of the file
    return torch.frombuffer(data, dtype=torch.uint8).reshape(count, *item_shape)


def read_fashion_mnist(root=None, download=True):
    """Return ``(X_train, y_train, X_test, y_test)``: uint8 images ``(N, 28, 28)``, int64 labels."""
    raw = ensure_fashion_mnist(root, download)
    out = []
    for split in ("train", "t10k"):
        images, labels = f"{split}-images-idx3-ubyte", f"{split}-labels-idx1-ubyte"
        _, count, _, header = FASHION_MNIST_FILES[images]
        out.append(read_idx(raw / images, count, (28, 28), header))
        _, count, _, header = FASHION_MNIST_FILES[labels]
        out.append(read_idx(raw / labels, count, (), header).long())
    return tuple(out)


def load_fashion_mnist(batch_size, resize=None, root=None, device=None, download=True):
    """Return ``(train_iter, test_iter)`` over Fashion-MNIST (§3.5).

    Batches are ``X`` of shape ``(B, 1, 28, 28)`` (or ``resize``), float32 in [0, 1], and
    int64 labels ``y``. Each split is one tensor, on ``device`` if given.
    """
    X_train, y_train, X_test, y_test = read_fashion_mnist(root, download)

    def prepare(X):
        X = X.unsqueeze(1).to(torch.float32).div_(255)
        if resize:
            size = (resize, resize) if isinstance(resize, int) else tuple(resize)
            X = torch.nn.functional.interpolate(X, size=size, mode="bilinear", antialias=True)
        return X.to(device) if device is not None else X

    train = ArrayLoader((prepare(X_train), y_train.to(device or "cpu")), batch_size, shuffle=True)
    test = ArrayLoader((prepare(X_test), y_test.to(device or "cpu")), batch_size, shuffle=False)
    return train, test


def fashion_mnist_labels(labels):
    """Map numeric labels to the dataset's text labels (§3.5)."""
    return [TEXT_LABELS[int(i)] for i in labels]
