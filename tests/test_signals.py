"""Stopping: Ctrl-C in the benchmark, SIGTERM and SIGHUP end a run cleanly, with no
partial files."""

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from d2lnotes.utils import cli, data, io


def _parts(folder):
    return [p for p in Path(folder).rglob("*") if p.name.endswith(".part")]


def _wait_for(proc, text, limit=300):
    """Read the child's stdout until a line holds ``text``; the child cannot finish first.

    A child that never prints it is killed after ``limit`` seconds, so a changed line fails
    the test instead of leaving a 100000-epoch run behind.
    """
    watchdog = threading.Timer(limit, proc.kill)
    watchdog.start()
    try:
        for line in proc.stdout:
            if text in line:
                return
    finally:
        watchdog.cancel()
    proc.kill()
    raise AssertionError(f"{text!r} never printed: {proc.stderr.read()}")


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129),
                                       (signal.SIGINT, 130)])
def test_a_stop_signal_while_writing_removes_the_part_file(tmp_path, capsys, sig, code):
    target = tmp_path / "f.json"

    def main(argv):
        with io.atomic_path(target) as tmp:
            tmp.write_text("half")
            os.kill(os.getpid(), sig)  # delivered before the next bytecode: deterministic
            tmp.write_text("all")
        return 0

    # A shell's background job starts with SIGINT ignored; Ctrl-C's own handler is the case here.
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        assert cli.run(main, []) == code
    finally:
        signal.signal(signal.SIGINT, before)
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and "no partial output file" in err
    assert not target.exists() and not _parts(tmp_path)
    assert signal.getsignal(signal.SIGTERM) is not cli._terminate  # handlers restored


@pytest.mark.slow
def test_sigterm_stops_a_training_run_like_ctrl_c(tmp_path, fashion_mnist_raw):
    sig, code = signal.SIGTERM, 143
    out, js = tmp_path / "out", tmp_path / "f.json"
    # With a system copy, an empty --data-dir: the signal may land while it is imported.
    has_copy = any(d.is_dir() for d in data.system_dirs())
    root = tmp_path / "data" if has_copy else fashion_mnist_raw.parents[1]
    proc = subprocess.Popen([sys.executable, "-m", "d2lnotes.ch3", "--epochs", "100000",
                             "--out", str(out), "--json", str(js), "--data-dir", str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Linear regression's epoch rows are done; the next header means Fashion-MNIST is being
    # imported into the empty --data-dir or softmax regression is training.
    _wait_for(proc, "softmax regression on Fashion-MNIST")
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    # one line, after the import's own announcement if the import had finished
    *before, last = err.strip().splitlines()
    assert f"stopped by {signal.Signals(sig).name}" in last
    assert all(line.startswith("d2lnotes: Fashion-MNIST") for line in before) and len(before) < 2
    assert not js.exists() and not list(out.glob("*.png")) and not _parts(tmp_path)


@pytest.mark.slow
def test_bench_ctrl_c_stops_its_dataloader_workers_quietly(tmp_path, fashion_mnist_raw):
    proc = subprocess.Popen([sys.executable, "-m", "d2lnotes.bench", "--models", "softmax",
                             "--subset", "256", "--epochs", "40", "--skip-e2e"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    _wait_for(proc, "A softmax: epoch 1/")
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C does: workers included
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "BrokenPipeError" not in err
    assert err.strip().startswith("interrupted;")

