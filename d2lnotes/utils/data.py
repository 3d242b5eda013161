"""Data: synthetic regression data (§3.2), in-memory batching (§3.3) and Fashion-MNIST (§3.5).

Fashion-MNIST is read once, straight from its IDX files, kept as one tensor per split, and
batched by slicing with a shuffled index. No per-image decoding, no worker processes: an epoch of
softmax regression costs a fraction of a second instead of several seconds.
"""

import contextlib
import gzip
import json
import math
import operator
import os
import shutil
import struct
import sys
import tempfile
from pathlib import Path

import torch

from .errors import D2LError, DataError
from .io import atomic_path, broken_link, file_digest, file_in_the_way, write_json

# Debian's and Ubuntu's `dataset-fashion-mnist` package puts the four .gz files here.
# Their .gz bytes differ from torchvision's checksums; the decompressed files are the same.
# $D2LNOTES_SYSTEM_DATA replaces this list (a folder), or empties it (set to "").
SYSTEM_DIRS = [Path("/usr/share/datasets/fashion-mnist")]

# SHA-256 of each decompressed file. The dataset is fixed, so these are constants; their
# MD5s (8181f547..., 15d48437..., f4a8712d..., 9018921c...) are the ones older torchvision
# releases list for the decompressed files.
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
# Files whose hash was checked, by size, mtime, ctime and inode, so a run does not re-read
# 55 MB. The ctime is the one a user cannot set back (``touch -r`` restores only the mtime).
VERIFIED_STAMP = ".d2lnotes-verified.json"

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
        try:  # any integral type (numpy.int64 too), but not bool, float or str
            size = None if isinstance(batch_size, bool) else operator.index(batch_size)
        except TypeError:
            size = None
        if size is None or size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        batch_size = size
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
    # Hidden files are bookkeeping: the stamp, and another run's half-written .part files.
    files = [dest] if dest.is_file() else [p for p in dest.iterdir()
                                           if p.is_file() and not p.name.startswith(".")]
    size = sum(p.stat().st_size for p in files) / 1e6
    print(f"d2lnotes: {what} ({size:.1f} MB) from {source} to {dest} (move it with "
          "--data-dir or D2LNOTES_DATA)", file=sys.stderr)


def data_root(root=None):
    """Where datasets live: ``root``, else ``$D2LNOTES_DATA``, else ``./data`` if it exists
    (a checkout's), else the per-user cache ``$XDG_CACHE_HOME/d2lnotes`` (``~/.cache/d2lnotes``).

    So a notebook in any folder shares one copy instead of growing a ``data/`` of its own.
    A leading ``~`` is expanded here, once, wherever the path came from (a quoted
    ``D2LNOTES_DATA='~/data'`` too), so every reader and writer sees the same folder.
    """
    if root or os.environ.get("D2LNOTES_DATA"):
        return Path(root or os.environ["D2LNOTES_DATA"]).expanduser()
    if Path("data").is_dir():
        return Path("data")
    cache = os.path.expanduser(os.environ.get("XDG_CACHE_HOME", ""))
    return (Path(cache) if os.path.isabs(cache) else Path.home() / ".cache") / "d2lnotes"


def system_dirs():
    """Folders holding a system copy of the ``.gz`` files: ``$D2LNOTES_SYSTEM_DATA`` if set
    (empty: none), else :data:`SYSTEM_DIRS`."""
    env = os.environ.get("D2LNOTES_SYSTEM_DATA")
    if env is None:
        return list(SYSTEM_DIRS)
    return [Path(env)] if env else []


def check_idx(path, magic, count, item_size, header):
    """Return what is wrong with an IDX file, or ``None`` if its header and size are right."""
    path = Path(path)
    if path.is_dir():
        return "a folder, not a file"
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
        with atomic_path(dest, follow_symlinks=False) as tmp:
            with gzip.open(src, "rb") as fin, open(tmp, "wb") as fout:
                shutil.copyfileobj(fin, fout)
            problem = check_idx(tmp, *spec)
            if problem:
                raise DataError(problem)
    except (OSError, EOFError, DataError) as e:
        return f"{src}: {e}"
    return None


def _read_stamp(path):
    """The stamp's ``{name: key}``; anything else (no file, bad JSON, not an object) is ``{}``."""
    try:
        stamp = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return stamp if isinstance(stamp, dict) else {}


def _verify_contents(raw, names):
    """``{name: problem}`` for the files ``names`` whose SHA-256 is not the dataset's.

    A file is hashed once: its size, mtime, ctime and inode then go into a stamp file in
    ``raw``, and while they match, the file is trusted (a read-only folder just hashes
    every time). The stamp is replaced, never written through a symlink.
    """
    stamp_path = raw / VERIFIED_STAMP
    stamp = _read_stamp(stamp_path)
    fresh, bad = {}, {}
    for name in names:
        digest = FASHION_MNIST_SHA256[name]
        try:
            st = (raw / name).stat()
            key = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
            good = stamp.get(name) == key or file_digest(raw / name) == digest
        except FileNotFoundError:  # another run, repairing it too, removed it just now
            bad[name] = "missing"
            continue
        if good:
            fresh[name] = key
        else:
            bad[name] = "content differs from the dataset's (SHA-256 mismatch)"
    if fresh != stamp:
        with contextlib.suppress(OSError, D2LError):  # a read-only copy is fine
            write_json(stamp_path, fresh, follow_symlinks=False)
    return bad


def fashion_mnist_problems(raw):
    """``{name: problem}`` for every file of ``raw`` that is not the dataset's: the header
    and size of all four first, then the SHA-256 of each file whose header is right."""
    found = {name: check_idx(raw / name, *spec) for name, spec in FASHION_MNIST_FILES.items()}
    bad = {name: problem for name, problem in found.items() if problem}
    bad.update(_verify_contents(raw, [name for name in found if name not in bad]))
    return bad


def download_fashion_mnist(folder):
    """Download the four files into ``folder/FashionMNIST/raw`` with torchvision, or raise
    :class:`DataError` with the first line of what went wrong."""
    from torchvision.datasets import FashionMNIST

    try:
        FashionMNIST(str(folder), train=True, download=True)
    except Exception as e:  # torchvision raises several types for a failed download
        first_line = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise DataError(f"download failed: {first_line}") from e


def _download_into(raw, names, notes):
    """Download into a private folder beside ``raw``, then move each sound file of ``names``
    into ``raw``. Nothing in ``raw`` is deleted: another run may have just repaired it."""
    with tempfile.TemporaryDirectory(prefix=".download-", dir=raw.parent) as tmp:
        try:
            download_fashion_mnist(tmp)
        except DataError as e:
            notes.append(str(e))
        got = Path(tmp) / "FashionMNIST" / "raw"
        sound = [name for name in names if check_idx(got / name, *FASHION_MNIST_FILES[name])
                 is None and file_digest(got / name) == FASHION_MNIST_SHA256[name]]
        for name in sound:
            os.replace(got / name, raw / name)


def _note(message):
    print(f"note: {message}", file=sys.stderr)


def ensure_fashion_mnist(root=None, download=True):
    """Make sure ``root/FashionMNIST/raw`` holds the four valid IDX files; return that folder.

    Each file must have the right header, size and SHA-256. A missing or corrupt file is
    (re)imported from a system copy (one ``note:`` line on stderr says which), else
    downloaded by torchvision. If neither works, raise :class:`DataError` saying how to
    get the data; a folder that cannot hold the files is a :class:`DataError` too.
    """
    raw = data_root(root) / "FashionMNIST" / "raw"
    link = broken_link(raw)
    if link is not None:
        raise DataError(f"the data folder {data_root(root)} cannot be reached: {link}; fix or "
                        "remove the link, or point --data-dir or D2LNOTES_DATA elsewhere")
    first_time = not raw.is_dir()
    blocker = file_in_the_way(raw)
    if blocker is not None:
        raise DataError(f"{blocker} is a file, but Fashion-MNIST needs {raw} to be a "
                        "folder; move the file away or choose another --data-dir")
    notes = []

    def refuse(message):
        raise DataError(f"{message}; fix the folder's permissions, or point --data-dir or "
                        "D2LNOTES_DATA at a folder you can write")

    # Everything is checked first, so that one pass over the system copy repairs it all.
    bad = fashion_mnist_problems(raw)
    in_the_way = [raw / n for n, p in bad.items() if p == "a folder, not a file"]
    if in_the_way:
        raise DataError(f"{', '.join(map(str, in_the_way))} is a folder where a Fashion-MNIST "
                        "file belongs; move it away and run again")
    corrupt = {name: p for name, p in bad.items() if p != "missing"}
    for name, problem in corrupt.items():
        notes.append(f"{raw / name} was corrupt ({problem})")
    try:
        for system_dir in system_dirs():
            if not bad:
                break
            for name in list(bad):
                src = system_dir / f"{name}.gz"
                if src.is_file():
                    raw.mkdir(parents=True, exist_ok=True)
                    # Replaced atomically over any corrupt file: safe if two runs repair at once.
                    err = _import_gz(src, raw / name, FASHION_MNIST_FILES[name])
                    if err:
                        notes.append(f"the system copy {err}")
                    elif name in corrupt:
                        _note(f"{raw / name} was corrupt ({corrupt[name]}); replaced it with "
                              f"the system copy {src}")
            bad = fashion_mnist_problems(raw)
        if bad and download:
            raw.mkdir(parents=True, exist_ok=True)
            _download_into(raw, list(bad), notes)
            bad = fashion_mnist_problems(raw)
    except PermissionError as e:
        refuse(f"cannot import Fashion-MNIST into {raw}: {e.filename or raw}: {e.strerror}")
    except D2LError as e:  # e.g. io.WriteError: a read-only folder or a full disk
        refuse(f"cannot import Fashion-MNIST into {raw}: {e}")
    if bad:
        detail = "; ".join(notes + [f"{raw / n}: {p}" for n, p in bad.items()])
        raise DataError(
            f"Fashion-MNIST is not in {raw} ({detail}); get it by running "
            "'apt-get install dataset-fashion-mnist' (a system copy d2lnotes imports), "
            "by going online so torchvision can download it, or by pointing --data-dir or "
            "D2LNOTES_DATA at a folder that holds FashionMNIST/raw/*-ubyte"
        )
    if first_time:
        announce("Fashion-MNIST", next((f"the system copy {d}" for d in system_dirs()
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
    """Map numeric labels 0-9 to the dataset's text labels (§3.5)."""
    if isinstance(labels, torch.Tensor):
        labels = labels.tolist()
    out = []
    for label in labels:
        try:
            i = None if isinstance(label, bool) else operator.index(label)
        except TypeError:
            i = None
        if i is None:
            raise TypeError(f"fashion_mnist_labels: labels must be whole numbers, got {label!r}")
        if not 0 <= i < len(TEXT_LABELS):
            raise ValueError(f"fashion_mnist_labels: labels must lie in [0, "
                             f"{len(TEXT_LABELS) - 1}], got {i}")
        out.append(TEXT_LABELS[i])
    return out
