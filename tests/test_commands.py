"""``python -m d2lnotes <command>``: the same commands as ``python -m d2lnotes.<command>``;
--help and usage errors answer before torch is imported; ch4 survives a failing topic."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from d2lnotes.__main__ import main as d2lnotes_main
from d2lnotes.ch4 import report
from d2lnotes.ch4.__main__ import main as ch4_main

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ["d2lnotes.ch2", "d2lnotes.ch3", "d2lnotes.ch4", "d2lnotes.bench"]


def _python(code):
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                       text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.slow
def test_help_and_usage_errors_import_no_torch():
    # One interpreter for all: had any case imported torch, every later line would say so.
    out = _python(f"""
        import runpy, sys
        from d2lnotes.__main__ import main
        for how in ("module", "dispatch"):
            for name in {COMMANDS!r}:
                for argv in (["--help"], ["--no-such-option"]):
                    sys.argv = [name, *argv]
                    try:
                        if how == "module":
                            runpy.run_module(name + ("" if name.endswith("bench") else
                                                     ".__main__"), run_name="__main__")
                        else:
                            main([name.split(".")[1], *argv])
                    except SystemExit as e:
                        assert e.code in (0, 2), (name, argv, e.code)
                    print("loaded:", how, name, argv[0], "torch" in sys.modules)
    """)
    lines = [line for line in out.splitlines() if line.startswith("loaded:")]
    assert len(lines) == 2 * len(COMMANDS) * 2
    assert all(line.endswith("False") for line in lines), out


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ch2", "ch3", "ch4", "bench"])
def test_dispatch_runs_the_same_command(name, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit):
        d2lnotes_main([name, "--help"])
    via = capsys.readouterr().out
    r = subprocess.run([sys.executable, "-m", f"d2lnotes.{name}", "--help"], capture_output=True,
                       text=True, cwd=ROOT, timeout=120, env=dict(os.environ, COLUMNS="80"))
    assert via and via == r.stdout
    with pytest.raises(SystemExit) as e:
        d2lnotes_main([name, "--no-such-option"])
    assert e.value.code == 2
    assert f"python -m d2lnotes.{name} --help" in capsys.readouterr().err


def test_a_chapter_d2lnotes_lacks_points_at_the_drop_in(capsys):
    assert d2lnotes_main(["ch5", "--help"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "python -m d2lnotes book" in err


def test_ch4_keeps_every_finished_topic_when_one_fails(tmp_path, monkeypatch, capsys):
    # kaggle fails for real (no CSVs, an address nothing listens on); activations fails
    # like a bug would; init finishes and must be reported in full.
    monkeypatch.setenv("D2LNOTES_DATA_URL", "http://127.0.0.1:9/")

    def broken(run, say):
        raise RuntimeError("a bug in the topic")

    monkeypatch.setattr(report, "activations", broken)
    js = tmp_path / "ch4.json"
    argv = ["activations", "init", "kaggle", "--quiet", "--no-plots", "--out", str(tmp_path),
            "--data-dir", str(tmp_path / "empty"), "--json", str(js)]
    assert ch4_main(argv) == 1
    out, err = capsys.readouterr()
    doc = json.loads(js.read_text())
    assert list(doc["results"]) == ["init"] and doc["results"]["init"]["matrix_product_max_abs"]
    assert set(doc["failed"]) == {"activations", "kaggle"} and set(doc["seconds"]) == {
        "activations", "init", "kaggle"}
    rows = {line.split()[0]: line for line in out.splitlines() if line[:1].isalpha()}
    for topic, why in doc["failed"].items():
        assert "\n" not in why and why in rows[topic]
    assert "RuntimeError" in doc["failed"]["activations"]
    assert "kaggle_house" in doc["failed"]["kaggle"]
    assert err.count("\n") == 1 and err.startswith("error:")
