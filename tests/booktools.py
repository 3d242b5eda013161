"""What the book tests share: a headless pyplot with PNGs in the test's folder, and the
``python -m d2lnotes book`` command run in a fresh process on this checkout's code."""

import os
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def headless(tmp_path, monkeypatch):
    """Agg pyplot, PNGs into tmp_path, and no figure left open after a test."""
    matplotlib.use("Agg")
    monkeypatch.setenv("D2LNOTES_BOOK_OUT", str(tmp_path / "book-out"))
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def run_book(*args, cwd=ROOT, env=None, timeout=300):
    """``python -m d2lnotes book ARGS`` in a fresh process; the CompletedProcess."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", **(env or {})}
    return subprocess.run([sys.executable, "-m", "d2lnotes", "book", *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)
