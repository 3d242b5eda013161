"""Shared fixtures: the two real datasets, fetched the way a user gets them, once per session,
and the expensive trainings, run once per session and asserted on by several tests.

Each dataset is looked for in the package's own data folder (``./data``, or
``$D2LNOTES_DATA``), then fetched by the package itself: Fashion-MNIST from Debian's
``dataset-fashion-mnist`` or torchvision's download, the Kaggle CSVs from the book's data hub
(or the mirror in ``$D2LNOTES_DATA_URL``), SHA-1 checked. When a dataset cannot be had, every
test that needs it errors with the same one-line message, the other tests run, and the
summary ends with one line per missing dataset saying how to provide it.

The suite runs in one worker process per core (pytest-xdist, ``-n logical`` in
pyproject.toml), each with one torch thread. The long work is handed out first, so that it
starts at once while the other workers take the short tests; the tests that share a
command's run are in one file, which goes to one worker, so the command runs once.
"""

import contextlib
import multiprocessing
import os
import subprocess
import sys
from unittest import mock

import pytest
from runs import CH4_FRESH, twice

from d2lnotes.utils.errors import DataError

_missing = {}  # dataset name -> why it could not be had


def _controller(config):
    """True in pytest-xdist's controller, which hands out tests and runs none."""
    return getattr(config.option, "dist", "no") != "no" and not hasattr(config, "workerinput")


def pytest_configure(config):
    # One torch thread in this process and in every process the tests start: with one worker
    # per core, a second thread per process only waits for a core another process holds.
    # With two threads beside another process, the float64 MLP test (test_ch4.py) took 19 s
    # instead of 4.5 s.
    os.environ["OMP_NUM_THREADS"] = "1"
    if _controller(config):  # it needs neither torch nor Hypothesis: it starts sooner
        return
    import torch
    from hypothesis import settings

    torch.set_num_threads(1)
    # Torch's first calls are slow and CI machines are shared: time limits per example would
    # flake. The one Hypothesis profile; the shared strategies are in strategies.py.
    settings.register_profile("d2lnotes", deadline=None, max_examples=60)
    settings.load_profile("d2lnotes")


# The fixtures that compute something once per session. A test that uses one trains or starts
# a process, so it is `slow` (pytest -m "not slow" leaves it out; docs/development.md).
TRAININGS = {"softmax_run", "mlp_run", "dropout_run"}  # 10 epochs each: 13, 32 and 57 s
# A command run twice, shared by the tests of one file; that file's tests run on one worker
# (Scheduling below), so the command runs once.
SHARED_RUNS = {"ch3_runs": "tests/test_cli_ch3.py", "ch4_runs": "tests/test_cli_ch4.py"}
SLOW_FIXTURES = {*TRAININGS, *SHARED_RUNS, "kernel_name"}


@pytest.hookimpl(tryfirst=True)  # mark before -m deselects
def pytest_collection_modifyitems(items):
    """Mark the tests that use a slow fixture, and hand out the long work first: the
    trainings and the shared runs, then the other slow tests, then the fast ones."""
    for item in items:
        names = set(item.fixturenames)
        if SLOW_FIXTURES & names:
            item.add_marker(pytest.mark.slow)
        for name in SHARED_RUNS.keys() & names:
            if item.nodeid.split("::")[0] != SHARED_RUNS[name]:
                raise pytest.UsageError(f"{item.nodeid} uses {name}: put it in "
                                        f"{SHARED_RUNS[name]}, whose tests share one run")
    items.sort(key=lambda item: (not (TRAININGS | SHARED_RUNS.keys()) & set(item.fixturenames),
                                 item.get_closest_marker("slow") is None))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """With ``-n`` (and no other ``--dist``): each test is handed out on its own, in the order
    above, except that the tests of a file in SHARED_RUNS go together to one worker."""
    if config.getvalue("dist") != "load":
        return None  # the --dist asked for
    from xdist.scheduler import LoadScopeScheduling

    class Scheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            file = nodeid.split("::")[0]
            return file if file in SHARED_RUNS.values() else nodeid

    return Scheduling(config, log)


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
    """A test that starts a process, or is the first to import torchvision (about 3 s: it
    loads torch._dynamo), must be marked ``slow``: one that is not fails saying so."""
    if item.get_closest_marker("slow"):
        return (yield)
    had_torchvision = "torchvision" in sys.modules
    with no_processes(item.nodeid) as started:
        result = yield
    if started:
        raise AssertionError(f"{item.nodeid} starts a process ({started[0]}) but is not "
                             "marked slow; add @pytest.mark.slow")
    if not had_torchvision and "torchvision" in sys.modules:
        raise AssertionError(f"{item.nodeid} imports torchvision (about 3 s) but is not "
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


def pytest_sessionfinish(session):
    if hasattr(session.config, "workerinput"):  # an xdist worker tells the controller
        session.config.workeroutput["missing"] = _missing


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """In xdist's controller: gather the datasets each worker could not have."""
    _missing.update(getattr(node, "workeroutput", {}).get("missing", {}))


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


@pytest.fixture(scope="session")
def softmax_run(fashion_mnist):
    """§3.6-3.7 softmax regression, both versions, the book's settings (10 epochs)."""
    from d2lnotes.ch3 import compare_softmax_regression

    return compare_softmax_regression(num_epochs=10, data=fashion_mnist)


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
