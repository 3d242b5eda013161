"""Shared fixtures: the two real datasets, fetched the way a user gets them, once per session,
and the expensive trainings, run once per session and asserted on by several tests.

Each dataset is looked for in the package's own data folder (``./data``, or
``$D2LNOTES_DATA``), then fetched by the package itself: Fashion-MNIST from Debian's
``dataset-fashion-mnist`` or torchvision's download, the Kaggle CSVs from the book's data hub
(or the mirror in ``$D2LNOTES_DATA_URL``), SHA-1 checked. When a dataset cannot be had, every
test that needs it errors with the same one-line message, the other tests run, and the
summary ends with one line per missing dataset saying how to provide it.
"""

import json
import subprocess
import sys

import pytest
from hypothesis import settings

from d2lnotes.utils.errors import DataError

# Torch's first calls are slow and CI machines are shared: time limits per example would flake.
# The one Hypothesis profile; the shared strategies are in strategies.py.
settings.register_profile("d2lnotes", deadline=None, max_examples=60)
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


@pytest.fixture(scope="session")
def softmax_run(fashion_mnist):
    """§3.6-3.7 softmax regression, both versions, the book's settings (10 epochs)."""
    from d2lnotes.ch3 import compare_softmax_regression

    return compare_softmax_regression(data=fashion_mnist)


@pytest.fixture(scope="session")
def mlp_run(fashion_mnist):
    """§4.2-4.3 the MLP, both versions, the book's settings (10 epochs)."""
    from d2lnotes.ch4 import compare_mlp

    return compare_mlp(num_epochs=10, data=fashion_mnist)


@pytest.fixture(scope="session")
def dropout_run(fashion_mnist):
    """§4.6 the dropout MLP, both versions, the book's settings (10 epochs)."""
    from d2lnotes.ch4 import compare_dropout

    return compare_dropout(num_epochs=10, data=fashion_mnist)


@pytest.fixture(scope="session")
def ch4_run(tmp_path_factory, fashion_mnist_raw, kaggle_house):
    """``python -m d2lnotes.ch4 --epochs 1 --seed 7``, every topic, run once in a fresh
    process; returns ``(stdout, the --json report, the --out folder)``."""
    tmp = tmp_path_factory.mktemp("ch4")
    out, js = tmp / "out", tmp / "ch4.json"
    r = subprocess.run([sys.executable, "-m", "d2lnotes.ch4", "--epochs", "1", "--seed", "7",
                        "--out", str(out), "--json", str(js)],
                       capture_output=True, text=True, check=True)
    return r.stdout, json.loads(js.read_text()), out


@pytest.fixture
def kernel_name(tmp_path, monkeypatch):
    """A Jupyter kernelspec for ``sys.executable`` in a private JUPYTER_PATH."""
    import json
    import sys
    from pathlib import Path

    spec = tmp_path / "jupyter" / "kernels" / "d2lnotes-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "d2lnotes test", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    # import the code under test, installed or not
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    return "d2lnotes-test"
