"""``python -m d2lnotes.ch3``: a real one-epoch run, and bad options."""

import subprocess
import sys

import pytest

from d2lnotes.ch3.__main__ import main
from d2lnotes.utils import cli


def test_one_epoch_run_writes_pngs_and_json(ch3_runs):
    # python -m d2lnotes.ch3 --epochs 1 --seed 7 --out ... --json ..., in a fresh process
    r = ch3_runs.fresh
    assert r.code == 0, r.stderr[-2000:]
    assert "max_param_diff" in r.stdout and "softmax regression" in r.stdout
    for name in ("softmax_curves.png", "predictions.png"):
        assert (r.out / name).read_bytes().startswith(b"\x89PNG")
    figures = r.report
    soft = figures["results"]["softmax_regression"]
    assert set(soft) == {"scratch", "concise", "max_param_diff"}
    assert set(soft["scratch"]) == {"train_loss", "train_acc", "test_acc"}
    assert 0.7 < soft["concise"]["test_acc"] < 1 and soft["max_param_diff"] < 1e-5
    lin = figures["results"]["linear_regression"]
    assert set(lin["scratch"]) == {"train_loss", "w_error", "b_error"}
    assert set(figures["seconds"]) == {"linear_regression", "softmax_regression"}
    assert figures["settings"]["epochs"] == 1
    assert not [p for p in ch3_runs.tmp.rglob("*") if p.name.endswith(".part")]


@pytest.mark.slow
def test_help_explains_the_options():
    r = subprocess.run([sys.executable, "-m", "d2lnotes.ch3", "--help"], capture_output=True,
                       text=True, check=True)
    for option in ("--epochs", "--lr", "--batch-size", "--impl", "--seed", "--device",
                   "--data-dir", "--out", "--no-plots", "--quiet", "--json"):
        assert option in r.stdout


@pytest.mark.parametrize("argv, what", [
    (["--lr", "0"], "--lr"), (["--lr", "-1"], "--lr"), (["--lr", "nan"], "--lr"),
    (["--epochs", "0"], "--epochs"), (["--batch-size", "0"], "--batch-size"),
    (["--batch-size", "abc"], "--batch-size"), (["--device", "tpu"], "--device"),
    (["--impl", "both-ish"], "--impl"),
])
def test_bad_option_is_one_line_and_exit_2(argv, what, capsys):
    with pytest.raises(SystemExit) as e:
        cli.run(main, argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and what in err and err.count("\n") == 1


def test_cuda_without_gpu_is_a_usage_error(monkeypatch, capsys, tmp_path):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert cli.run(main, ["--device", "cuda", "--out", str(tmp_path)]) == 2
    assert "no CUDA GPU" in capsys.readouterr().err


def test_out_pointing_at_a_file_fails_before_training(tmp_path, capsys):
    f = tmp_path / "taken"
    f.write_text("x")
    assert cli.run(main, ["--out", str(f)]) == 2
    err = capsys.readouterr()
    assert "is a file" in err.err and "linear regression" not in err.out


def test_unwritable_out_fails_before_training(capsys):
    # /proc refuses new entries even to root, so this holds whoever runs the tests.
    assert cli.run(main, ["--out", "/proc/d2lnotes-out"]) == 2
    err = capsys.readouterr()
    assert "not a writable folder" in err.err and "linear regression" not in err.out


def test_same_seed_same_figures_ch3(ch3_runs):
    # One run in a fresh process, one in this one (after whatever the tests before it did).
    runs = ch3_runs
    assert runs.fresh.code == runs.here.code == 0, runs.fresh.stderr + runs.here.stderr
    assert runs.figures(runs.fresh) == runs.figures(runs.here)
    assert runs.fresh.report["results"]["softmax_regression"]["concise"]["test_acc"] > 0.7
