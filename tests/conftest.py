"""Shared by every test: one Hypothesis profile, Fashion-MNIST loaded once, and the
expensive trainings run once per session, each asserted on by several tests."""

import json
import subprocess
import sys

import pytest
from hypothesis import settings

# Torch's first calls are slow and CI machines are shared: time limits per example would flake.
settings.register_profile("d2lnotes", deadline=None, max_examples=60)
settings.load_profile("d2lnotes")


@pytest.fixture(scope="session")
def fashion_mnist():
    """The real Fashion-MNIST at the book's batch size, loaded once for the whole run."""
    from d2lnotes.utils.data import load_fashion_mnist

    return load_fashion_mnist(256)


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
def ch4_run(tmp_path_factory):
    """``python -m d2lnotes.ch4 --epochs 1 --seed 7``, every topic, run once in a fresh
    process; returns ``(stdout, the --json report, the --out folder)``."""
    tmp = tmp_path_factory.mktemp("ch4")
    out, js = tmp / "out", tmp / "ch4.json"
    r = subprocess.run([sys.executable, "-m", "d2lnotes.ch4", "--epochs", "1", "--seed", "7",
                        "--out", str(out), "--json", str(js)],
                       capture_output=True, text=True, check=True)
    return r.stdout, json.loads(js.read_text()), out
