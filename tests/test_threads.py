"""The thread policy: one torch thread unless ``--threads N`` or ``$D2LNOTES_THREADS`` says
otherwise, in the chapter commands, ``bench``, ``book`` and the training loop of the API."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from d2lnotes import bench
from d2lnotes.book import run as book_run
from d2lnotes.ch2.__main__ import main as ch2_main
from d2lnotes.utils import cli, train
from d2lnotes.utils.data import load_array
from d2lnotes.utils.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent


def _child_env(**extra):
    """The environment of a user's shell: no OMP_NUM_THREADS (the suite sets one thread)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", train.THREADS_ENV)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return {**env, **extra}


# In a fresh process: torch threads inside train(), then after it; then the same with
# $D2LNOTES_THREADS set.
TRAIN_TWICE = """
import os, torch
from d2lnotes.utils.data import load_array
from d2lnotes.utils.train import train
torch.set_num_threads(3)
seen = []
for env in (None, "2"):
    if env:
        os.environ["D2LNOTES_THREADS"] = env
    net = torch.nn.Linear(2, 1)
    it = load_array((torch.ones(8, 2), torch.ones(8, 1)), 4)
    train(net, it, None, torch.nn.MSELoss(), 1, torch.optim.SGD(net.parameters(), lr=0.1),
          quiet=True, callback=lambda h: seen.append(torch.get_num_threads()))
    seen.append(torch.get_num_threads())
print(*seen)
"""


@pytest.mark.slow
def test_the_api_trains_on_one_thread_or_the_variable_and_restores_torchs_setting():
    done = subprocess.run([sys.executable, "-c", TRAIN_TWICE], env=_child_env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "3", "2", "3"]


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", "1025"])
def test_a_bad_variable_is_a_usage_error_naming_it(monkeypatch, value):
    monkeypatch.setenv(train.THREADS_ENV, value)
    with pytest.raises(UsageError, match=f"D2LNOTES_THREADS='{value}'.*1 to 1024"):
        train.num_threads()


def test_an_empty_variable_is_the_default(monkeypatch):
    monkeypatch.setenv(train.THREADS_ENV, "")
    assert train.num_threads() == train.DEFAULT_THREADS == 1


def test_train_takes_an_explicit_count_and_puts_torchs_back():
    net = torch.nn.Linear(2, 1)
    it = load_array((torch.ones(8, 2), torch.ones(8, 1)), 4)
    seen = []
    before = torch.get_num_threads()
    train.train(net, it, None, torch.nn.MSELoss(), 1, torch.optim.SGD(net.parameters(), lr=0.1),
                quiet=True, threads=2, callback=lambda h: seen.append(torch.get_num_threads()))
    assert seen == [2] and torch.get_num_threads() == before


CH2 = ["--section", "calculus", "--no-plots", "--quiet"]


@pytest.mark.slow
def test_a_command_in_a_fresh_process_runs_on_one_thread(tmp_path):
    # torch's own default is one thread per core; the command's is one thread.
    js = tmp_path / "ch2.json"
    done = subprocess.run([sys.executable, "-m", "d2lnotes.ch2", *CH2, "--json", str(js)],
                          env=_child_env(), capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(js.read_text())["settings"]["num_threads"] == 1


@pytest.mark.parametrize("env, argv, expected", [
    ("2", [], 2),                   # the variable
    ("2", ["--threads", "3"], 3),   # the option wins
    (None, ["--threads", "2"], 2),
])
def test_a_command_takes_the_variable_and_the_option_and_puts_them_back(
        tmp_path, monkeypatch, capsys, env, argv, expected):
    if env is None:
        monkeypatch.delenv(train.THREADS_ENV, raising=False)
    else:
        monkeypatch.setenv(train.THREADS_ENV, env)
    before = torch.get_num_threads()
    js = tmp_path / "ch2.json"
    assert cli.run(ch2_main, [*CH2, *argv, "--json", str(js)]) == 0
    assert json.loads(js.read_text())["settings"]["num_threads"] == expected
    assert torch.get_num_threads() == before and os.environ.get(train.THREADS_ENV) == env


@pytest.mark.parametrize("main", [ch2_main, bench.main, book_run.main],
                         ids=["ch2", "bench", "book"])
@pytest.mark.parametrize("value", ["0", "1025", "two"])
def test_threads_option_refuses_bad_values(main, value, capsys):
    with pytest.raises(SystemExit) as e:
        cli.run(main, ["--threads", value] + (["x.py"] if main is book_run.main else []))
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: argument --threads") and err.count("\n") == 1


def test_a_bad_variable_stops_a_command_in_one_line(monkeypatch, capsys):
    monkeypatch.setenv(train.THREADS_ENV, "lots")
    assert cli.run(ch2_main, CH2) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: D2LNOTES_THREADS='lots'") and err.count("\n") == 1


def test_the_book_runner_applies_the_option(tmp_path, capsys):
    cell = tmp_path / "nb.py"
    cell.write_text("import torch\nprint('threads', torch.get_num_threads())\n")
    assert cli.run(book_run.main, [str(cell), "--out", str(tmp_path / "out"),
                                   "--threads", "2"]) == 0
    assert "threads 2" in capsys.readouterr().out


@pytest.mark.slow
def test_time_threads_times_each_count_idle_and_beside_a_busy_process(fashion_mnist_raw):
    timings = bench.time_threads(["softmax"], counts=[1, 2], rounds=2, subset=512,
                                   say=lambda *a: None)
    assert timings["counts"] == [1, 2] and timings["rounds"] == 2
    for condition in ("idle", "busy"):
        c = timings["conditions"][condition]
        assert len(c["loadavg_start"]) == len(c["loadavg_end"]) == 3
        for n in ("1", "2"):
            assert len(c["softmax"][n]["epochs"]) == 2 and c["softmax"][n]["median_epoch"] > 0
    table = bench.format_threads(timings)
    assert "softmax 1 thr" in table and "beside 1 busy process" in table
