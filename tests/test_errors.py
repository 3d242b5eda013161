"""Bad input, broken data and diverging training: one clear line, the right exit status,
and no half-written file. Rows of the error matrix that belong to one chapter's API live
with that chapter's tests; the command-line rows are here."""

import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios

import pytest
from runs import twice

from d2lnotes.ch3.__main__ import main as ch3_main
from d2lnotes.utils import cli, data


def _no_partial_files(folder):
    return not [p for p in folder.rglob("*") if p.name.endswith(".part")]


@pytest.mark.slow
def test_batch_size_larger_than_the_dataset_gives_one_batch(tmp_path, capsys, fashion_mnist_raw):
    assert cli.run(ch3_main, ["--epochs", "1", "--batch-size", "100000", "--no-plots",
                              "--quiet", "--json", str(tmp_path / "f.json")]) == 0
    soft = json.loads((tmp_path / "f.json").read_text())["results"]["softmax_regression"]
    assert 0 < soft["concise"]["test_acc"] < 1  # one step of full-batch gradient descent


@pytest.mark.slow
@pytest.mark.skipif(not any(d.is_dir() for d in data.system_dirs()),
                    reason="needs Debian's dataset-fashion-mnist (installed by .ci/run)")
def test_missing_data_dir_is_created_and_filled(tmp_path, capsys):
    target = tmp_path / "new" / "folder"
    assert cli.run(ch3_main, ["--epochs", "1", "--no-plots", "--quiet",
                              "--data-dir", str(target)]) == 0
    assert (target / "FashionMNIST" / "raw" / "train-images-idx3-ubyte").is_file()
    assert _no_partial_files(target)


@pytest.mark.slow  # imports torchvision
def test_no_data_offline_and_no_system_copy(tmp_path, monkeypatch, capsys):
    from torchvision.datasets import FashionMNIST

    def offline(self):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: no network")

    monkeypatch.setattr(data, "SYSTEM_DIRS", [])
    monkeypatch.setattr(FashionMNIST, "download", offline)
    out = tmp_path / "out"
    code = cli.run(ch3_main, ["--epochs", "1", "--quiet", "--data-dir", str(tmp_path / "d"),
                              "--out", str(out), "--json", str(tmp_path / "f.json")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: Fashion-MNIST is not in ") and err.count("\n") == 1
    assert str(tmp_path / "d" / "FashionMNIST" / "raw") in err and "no network" in err
    assert not list(out.iterdir()) and not (tmp_path / "f.json").exists()


@pytest.mark.slow
def test_diverging_training_stops_with_epoch_batch_and_advice(tmp_path, capsys,
                                                             fashion_mnist_raw):
    code = cli.run(ch3_main, ["--lr", "1000", "--quiet", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert re.fullmatch(r"error: the training loss became (inf|nan) at epoch 1, batch \d+; "
                        r"try a smaller learning rate than lr=1000.0\n", err)
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_debug_shows_the_traceback(tmp_path, capsys, fashion_mnist_raw):
    cli.run(ch3_main, ["--lr", "1000", "--quiet", "--no-plots", "--debug"])
    assert "Traceback" in capsys.readouterr().err


def _read_until(fd, pattern, limit=120.0):
    """Read a pty until ``pattern`` appears (or the child closes it); return all text read."""
    text = ""
    while not re.search(pattern, text):
        ready, _, _ = select.select([fd], [], [], limit)
        assert ready, f"nothing matched {pattern!r} within {limit} s; got {text[-500:]!r}"
        try:
            chunk = os.read(fd, 4096).decode(errors="replace")
        except OSError:  # EIO: the child closed its end
            chunk = ""
        if not chunk:
            break
        text += chunk
    return text


def _default_sigint():
    # A shell's background job (pytest ... &) starts with SIGINT ignored, and children
    # inherit that; a terminal's Ctrl-C reaches a process with the default disposition.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
def test_ctrl_c_stops_cleanly(tmp_path, fashion_mnist_raw):
    # 100000 epochs cannot finish first. stderr is a terminal, so the progress bar is drawn:
    # once it has counted batches of softmax regression, training is under way.
    out = tmp_path / "out"
    leader, follower = pty.openpty()
    # A new pty is 0 columns wide, where tqdm draws nothing: give it 24 rows of 120.
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "d2lnotes.ch3", "--epochs", "100000",
                             "--out", str(out), "--json", str(tmp_path / "f.json")],
                            stdout=subprocess.DEVNULL, stderr=follower, stdin=subprocess.DEVNULL,
                            preexec_fn=_default_sigint)
    os.close(follower)
    try:
        # softmax regression's bar: 100000 epochs of 235 batches, at least one done
        _read_until(leader, r"scratch:.*\b[1-9]\d*/23500000 \[")
        proc.send_signal(signal.SIGINT)
        # Drain the pty until the child closes it: a full pty would block its writes.
        err = _read_until(leader, r"(?!)")
        assert proc.wait(timeout=60) == 130
    finally:
        proc.kill()
        os.close(leader)
    assert "interrupted" in err and "Traceback" not in err
    assert not (tmp_path / "f.json").exists() and not list(out.glob("*.png"))
    assert _no_partial_files(tmp_path)


@pytest.mark.slow
def test_same_seed_same_figures_ch2(tmp_path):
    from d2lnotes.ch2.__main__ import main

    runs = twice("d2lnotes.ch2", main, ["--seed", "7", "--no-plots"], tmp_path)
    assert runs.fresh.code == runs.here.code == 0, runs.fresh.stderr + runs.here.stderr
    assert runs.figures(runs.fresh) == runs.figures(runs.here)
    assert runs.fresh.report["results"] and "48 of 48 checks True" in runs.fresh.stdout


@pytest.mark.slow
def test_a_different_seed_changes_the_figures(tmp_path, capsys, fashion_mnist_raw):
    # Guards the tests above: the figures do depend on the seed, so equality means something.
    results = []
    for seed in (0, 1):
        js = tmp_path / f"seed{seed}.json"
        assert cli.run(ch3_main, ["--epochs", "1", "--seed", str(seed), "--no-plots", "--quiet",
                                  "--impl", "concise", "--json", str(js)]) == 0
        results.append(json.loads(js.read_text())["results"]["softmax_regression"])
    assert results[0] != results[1]
