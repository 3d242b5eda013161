"""Shared fixtures: the two real datasets, fetched the way a user gets them, once per session,
and the expensive trainings, run once per session and asserted on by several tests.

Each dataset is looked for in the package's own data folder (``./data``, or
``$D2LNOTES_DATA``), then fetched by the package itself: Fashion-MNIST from Debian's
``dataset-fashion-mnist`` or torchvision's download, the Kaggle CSVs from the book's data hub
(or the mirror in ``$D2LNOTES_DATA_URL``), SHA-1 checked. When a dataset cannot be had, every
test that needs it errors with the same one-line message, the other tests run, and the
summary ends with one line per missing dataset saying how to provide it.

The longest trainings run in a second process beside the tests (background.py), and
every process runs torch on one thread, so the two processes have a core each.
"""

import contextlib
import multiprocessing
import os
import subprocess
from unittest import mock

import background
import pytest
import torch
from hypothesis import settings
from runs import CH4_FRESH, twice

from d2lnotes.utils.errors import DataError

# Torch's first calls are slow and CI machines are shared: time limits per example would flake.
# The one Hypothesis profile; the shared strategies are in strategies.py.
settings.register_profile("d2lnotes", deadline=None, max_examples=60)
settings.load_profile("d2lnotes")

_missing = {}  # dataset name -> why it could not be had
_background = {}  # "trainings" -> this session's background.Trainings, once started


def pytest_configure(config):
    # One torch thread in this process and in every process the tests start. A process
    # with two threads beside another keeps waiting for whichever thread the other has
    # preempted: with two threads here, the float64 MLP test (test_ch4.py) took 19 s
    # instead of 4.5 s beside the background trainings.
    torch.set_num_threads(1)
    os.environ["OMP_NUM_THREADS"] = "1"


# A test that uses one of these trains or starts a process, so it is `slow` (pytest -m "not slow"
# leaves it out; docs/development.md).
SLOW_FIXTURES = {*background.TRAININGS, "ch3_runs", "ch4_runs", "kernel_name"}


@pytest.hookimpl(tryfirst=True)  # mark before -m deselects
def pytest_collection_modifyitems(items):
    """Mark the tests that use a slow fixture; run the tests that need a background training
    last: it has the whole session to finish."""
    for item in items:
        if SLOW_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: any(name in item.fixturenames for name in background.TRAININGS))


@contextlib.contextmanager
def no_processes(nodeid):
    """Within, starting a process (``subprocess``, ``multiprocessing``) raises AssertionError;
    yields the list of what was refused, kept even if the code under test catches the error."""
    started = []

    def refuse(self, *args, **kwargs):
        started.append(type(self).__name__)
        raise AssertionError(f"{nodeid} starts a process; mark it @pytest.mark.slow")

    with mock.patch.object(subprocess.Popen, "__init__", refuse), \
            mock.patch.object(multiprocessing.process.BaseProcess, "start", refuse):
        yield started


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A test that starts a process must be marked ``slow``: one that is not fails saying so."""
    if item.get_closest_marker("slow"):
        return (yield)
    with no_processes(item.nodeid) as started:
        result = yield
    if started:
        raise AssertionError(f"{item.nodeid} starts a process ({started[0]}) but is not "
                             "marked slow; add @pytest.mark.slow")
    return result


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
def fashion_mnist_raw(request, tmp_path_factory):
    """The folder holding the four Fashion-MNIST IDX files, imported or downloaded once.

    Once they are in place, the long trainings that the selected tests need start in the
    background (background.py).
    """
    from d2lnotes.utils.data import ensure_fashion_mnist

    raw = _provide("Fashion-MNIST", ensure_fashion_mnist)
    wanted = [name for name in background.TRAININGS
              if any(name in item.fixturenames for item in request.session.items)]
    if wanted:
        trainings = background.Trainings(tmp_path_factory.mktemp("trained"), wanted)
        _background["trainings"] = trainings
        request.addfinalizer(trainings.stop)
    return raw


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


@pytest.fixture
def hub_mirror(tmp_path, monkeypatch):
    """A mirror of the book's data hub: ``http.server`` on 127.0.0.1 serving
    ``tmp_path / 'hub'``, named in ``$D2LNOTES_DATA_URL``; yields the folder and the list of
    paths requested from it."""
    import http.server
    import threading

    folder, requested = tmp_path / "hub", []
    folder.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, format, *args):
            requested.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    monkeypatch.setenv("D2LNOTES_DATA_URL", f"http://127.0.0.1:{server.server_port}/")
    yield folder, requested
    server.shutdown()
    server.server_close()


def _trained(name, data):
    """``name``'s result from the background process, or trained here if it has not got it
    (a fixture asked for with ``request.getfixturevalue``)."""
    trainings = _background.get("trainings")
    if trainings is not None and name in trainings.names:
        return trainings.result(name)
    return background.TRAININGS[name](data)


@pytest.fixture(scope="session")
def softmax_run(fashion_mnist):
    """§3.6-3.7 softmax regression, both versions, the book's settings (10 epochs)."""
    return _trained("softmax_run", fashion_mnist)


@pytest.fixture(scope="session")
def mlp_run(fashion_mnist):
    """§4.2-4.3 the MLP, both versions, the book's settings (10 epochs)."""
    return _trained("mlp_run", fashion_mnist)


@pytest.fixture(scope="session")
def dropout_run(fashion_mnist):
    """§4.6 the dropout MLP, both versions, the book's settings (10 epochs)."""
    return _trained("dropout_run", fashion_mnist)


# --- the chapter commands, in a fresh process and here (runs.py) ---------------------------

@pytest.fixture(scope="session")
def ch3_runs(tmp_path_factory, fashion_mnist_raw):
    """``python -m d2lnotes.ch3 --epochs 1 --seed 7``, plots and all, fresh and here."""
    from d2lnotes.ch3.__main__ import main

    return twice("d2lnotes.ch3", main, ["--epochs", "1", "--seed", "7"],
                 tmp_path_factory.mktemp("ch3"))


@pytest.fixture(scope="session")
def ch4_runs(tmp_path_factory, fashion_mnist_raw, kaggle_house):
    """``python -m d2lnotes.ch4 --epochs 1 --seed 7``: every topic here, and the topics
    ``CH4_FRESH`` in a fresh process."""
    from d2lnotes.ch4.__main__ import main

    return twice("d2lnotes.ch4", main, ["--epochs", "1", "--seed", "7"],
                 tmp_path_factory.mktemp("ch4"), fresh_only=CH4_FRESH)


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
