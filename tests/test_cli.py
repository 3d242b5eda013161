"""The command line: numbers out of range, over-long names, abbreviated options and the
JSON settings."""

import json
from pathlib import Path

import pytest
import torch

from d2lnotes.ch2.__main__ import main as ch2_main
from d2lnotes.utils import cli


def _parts(folder):
    return [p for p in Path(folder).rglob("*") if p.name.endswith(".part")]


def _one_line(err):
    return err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err


def _ch2(tmp_path, *argv):
    """The fastest chapter command: §2.4, which writes one PNG and, with --json, one JSON."""
    return cli.run(ch2_main, ["--section", "calculus", "--data-dir", str(tmp_path / "data"),
                              *map(str, argv)])

# --- over-long names -----------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--out", "--json", "--data-dir"])
def test_an_over_long_name_is_a_usage_error_before_any_work(tmp_path, capsys, option):
    long = tmp_path / ("x" * 300) / "f.json"
    argv = ["--section", "calculus", "--out", str(tmp_path / "out")]
    assert cli.run(ch2_main, [*argv, option, str(long)]) == 2
    out, err = capsys.readouterr()
    assert _one_line(err) and option in err and "300-byte name" in err
    assert out == ""


def test_a_json_name_near_the_limit_is_written(tmp_path, capsys):
    js = tmp_path / ("f" * 250)  # fine as a name, too long once ".<name>.<pid>.part"
    assert _ch2(tmp_path, "--no-plots", "--json", js) == 0
    assert json.loads(js.read_text())["results"]["calculus"]["all_true"] is True
    assert not _parts(tmp_path)

# --- numbers out of range, abbreviations ---------------------------------------------------------


def _parsers():
    from d2lnotes import bench
    from d2lnotes.ch2.__main__ import build_parser as ch2
    from d2lnotes.ch3.__main__ import build_parser as ch3
    from d2lnotes.ch4.__main__ import build_parser as ch4

    return {"ch2": ch2(), "ch3": ch3(), "ch4": ch4(), "bench": bench.build_parser()}


@pytest.mark.parametrize("command", ["ch2", "ch3", "ch4", "bench"])
@pytest.mark.parametrize("seed", ["18446744073709551616", "-1", "4294967296"])
def test_a_seed_out_of_range_is_exit_2(command, seed, capsys):
    with pytest.raises(SystemExit) as e:
        _parsers()[command].parse_args(["--seed", seed])
    assert e.value.code == 2
    assert _one_line(capsys.readouterr().err)


def test_the_largest_seed_is_accepted():
    assert _parsers()["ch3"].parse_args(["--seed", str(2**32 - 1)]).seed == 2**32 - 1


@pytest.mark.parametrize("argv", [
    ["--threads", "100000000000"], ["--threads", "0"], ["--epochs", "10" * 20],
    ["--subset", "99999999999999999999"],
])
def test_bench_numbers_out_of_range_are_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as e:
        _parsers()["bench"].parse_args(argv)
    assert e.value.code == 2 and _one_line(capsys.readouterr().err)


@pytest.mark.parametrize("width", ["99999999999999999999999", "30000000", "0"])
def test_show_width_out_of_range_is_exit_2(width, capsys):
    from d2lnotes.__main__ import main

    with pytest.raises(SystemExit) as e:
        main(["show", "ch3.linreg", "--width", width])
    assert e.value.code == 2 and _one_line(capsys.readouterr().err)


def test_a_huge_columns_is_clamped(monkeypatch, capsys):
    from d2lnotes.__main__ import main

    monkeypatch.setenv("COLUMNS", "30000000")
    assert main(["show", "ch3.linreg", "--layout", "stacked"]) == 0
    assert max(map(len, capsys.readouterr().out.splitlines())) <= 1000


def test_an_abbreviated_debug_shows_the_traceback(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert cli.run(ch2_main, ["--no-plots", "--device", "cuda", "--deb"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.endswith("error: --device cuda was asked for but no CUDA "
                                               "GPU is available; use --device cpu or --device "
                                               "auto\n")

# --- the thread count in the JSON ----------------------------------------------------------------


def test_json_settings_record_the_thread_count(tmp_path, capsys):
    js = tmp_path / "f.json"
    assert _ch2(tmp_path, "--no-plots", "--json", js) == 0
    assert json.loads(js.read_text())["settings"]["num_threads"] == torch.get_num_threads()

