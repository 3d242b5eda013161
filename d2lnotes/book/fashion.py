"""torchvision's ``FashionMNIST(root=R, download=True)`` served from d2lnotes' verified copy.

The classic §3.5 builds the dataset with torchvision itself, and torchvision downloads it into
``R/FashionMNIST/raw`` unless the four IDX files are there. While the book redirect is active
(``python -m d2lnotes book``, ``%load_ext d2lnotes.book``), and only then, the files that
``R/FashionMNIST/raw`` lacks are hard-linked (else copied) from d2lnotes' own copy (its data
folder, imported from the system copy if need be) before torchvision looks, and one line on
stderr says so. torchvision is patched when it is imported, never imported here.
"""

import importlib.abc
import importlib.machinery
import os
import shutil
import sys
from pathlib import Path

MODULE = "torchvision.datasets.mnist"

# before the patch: "own", FashionMNIST's own ``download`` (None: inherited); "call", the one run
_original = {}


def place_verified_copy(raw_folder):
    """Put d2lnotes' verified Fashion-MNIST files that ``raw_folder`` lacks into it; return
    the names placed (none when d2lnotes holds no verified copy: torchvision then downloads)."""
    from ..utils.data import FASHION_MNIST_FILES, ensure_fashion_mnist
    from ..utils.errors import D2LError
    from ..utils.io import atomic_path

    raw = Path(raw_folder)
    missing = [name for name in FASHION_MNIST_FILES if not (raw / name).is_file()]
    if not missing:
        return []
    try:
        source = ensure_fashion_mnist(download=False)
    except D2LError:
        return []
    raw.mkdir(parents=True, exist_ok=True)
    if source.resolve() == raw.resolve():
        return []
    how = set()
    for name in missing:
        try:
            os.link(source / name, raw / name)
            how.add("linked")
        except FileExistsError:  # another process placed it just now
            continue
        except OSError:  # another file system, or links not allowed: a copy
            with atomic_path(raw / name) as tmp:
                shutil.copyfile(source / name, tmp)
            how.add("copied")
    if not how:
        return []
    print(f"d2lnotes: {' and '.join(sorted(how))} Fashion-MNIST's {len(missing)} "
          f"missing files from {source.resolve()} into {raw.resolve()}, so torchvision need "
          "not download them", file=sys.stderr, flush=True)
    return missing


def _download(self):
    place_verified_copy(self.raw_folder)
    return _original["call"](self)


def _patch(module):
    cls = module.FashionMNIST
    if not _original:
        _original.update(own=cls.__dict__.get("download"), call=cls.download)
        cls.download = _download


def _unpatch():
    module = sys.modules.get(MODULE)
    if _original and module is not None:
        if _original["own"] is None:
            del module.FashionMNIST.download
        else:
            module.FashionMNIST.download = _original["own"]
    _original.clear()


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Patches ``torchvision.datasets.mnist`` as soon as a cell imports it."""

    def find_spec(self, name, path, target=None):
        if name != MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return None
        exec_module = spec.loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            _patch(module)

        spec.loader.exec_module = exec_and_patch
        return spec


_finder = _PatchOnImport()


def install():
    """Serve ``FashionMNIST(download=True)`` from d2lnotes' copy until :func:`uninstall`."""
    if MODULE in sys.modules:
        _patch(sys.modules[MODULE])
    elif _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)


def uninstall():
    """torchvision's ``FashionMNIST`` as it was: downloads go to the network again."""
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    _unpatch()
