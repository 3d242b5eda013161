"""Shared fixtures: the two real datasets, fetched the way a user gets them, once per session.

Each dataset is looked for in the package's own data folder (``./data``, or
``$D2LNOTES_DATA``), then fetched by the package itself: Fashion-MNIST from Debian's
``dataset-fashion-mnist`` or torchvision's download, the Kaggle CSVs from the book's data hub
(or the mirror in ``$D2LNOTES_DATA_URL``), SHA-1 checked. When a dataset cannot be had, every
test that needs it errors with the same one-line message, the other tests run, and the
summary ends with one line per missing dataset saying how to provide it.
"""

import pytest
from hypothesis import settings

from d2lnotes.utils.errors import DataError

# Torch's first calls are slow and CI machines are shared: time limits per example would flake.
settings.register_profile("d2lnotes", deadline=None)
settings.load_profile("d2lnotes")

_missing = {}  # dataset name -> why it could not be had


def _provide(name, get):
    """Return ``get()``; on :class:`DataError` fail this test, and every later one, alike."""
    if name not in _missing:
        try:
            return get()
        except DataError as e:
            _missing[name] = str(e)
    pytest.fail(f"{name} is not available: {_missing[name]}", pytrace=False)


def pytest_terminal_summary(terminalreporter):
    for name, why in _missing.items():
        terminalreporter.write_line(f"missing dataset: {name}: {why}", red=True)


@pytest.fixture(scope="session")
def fashion_mnist_raw():
    """The folder holding the four Fashion-MNIST IDX files, imported or downloaded once."""
    from d2lnotes.utils.data import ensure_fashion_mnist

    return _provide("Fashion-MNIST", ensure_fashion_mnist)


@pytest.fixture(scope="session")
def fashion_mnist(fashion_mnist_raw):
    """The real Fashion-MNIST at the book's batch size, loaded once for the whole run."""
    from d2lnotes.utils.data import load_fashion_mnist

    return load_fashion_mnist(256)


@pytest.fixture(scope="session")
def kaggle_house():
    """The folder holding the two verified §4.10 CSVs, downloaded once if missing."""
    from d2lnotes.ch4 import kaggle

    def get():
        for name in kaggle.KAGGLE_FILES:
            path = kaggle.download(name)
        return path.parent

    return _provide("Kaggle house prices", get)
