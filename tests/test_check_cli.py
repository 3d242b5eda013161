"""``python -m d2lnotes check``: the listing, a learner's file, and every bad command line.

Run in-process through ``check.main(argv)``; one fresh process checks the wiring of
``python -m d2lnotes check``.
"""

import subprocess
import sys
import textwrap

import pytest

from d2lnotes import check
from d2lnotes.check.names import CHECKS

GOOD = """\
import torch

print("top-level code runs, as in a notebook")
X = torch.normal(0, 1, (2, 5))


def softmax(X):
    X_exp = torch.exp(X - X.max(dim=1, keepdim=True).values)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition


if __name__ == "__main__":
    raise SystemExit("the main block must not run when the file is checked")
"""

NAIVE = """\
import torch


def softmax(X):
    X_exp = torch.exp(X)
    return X_exp / X_exp.sum(1, keepdim=True)
"""


def write(tmp_path, text, name="my_work.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_without_arguments_it_lists_every_topic_with_sections_and_show_topic(capsys):
    from d2lnotes.study import TOPICS as SHOWN

    assert check.main([]) == 0
    out = capsys.readouterr().out
    for c in CHECKS.values():
        line = next(line for line in out.splitlines() if line.split()[:1] == [c.name])
        # show has no pair for the Kaggle pieces: the listing names their file instead
        where = f"show {c.show_topic}" if c.show_topic in SHOWN else "d2lnotes/ch4/kaggle.py"
        assert c.signature in line and where in line
        assert c.classic in line and f"1.0: {c.edition_1}" in line


def test_a_correct_function_exits_0(tmp_path, capsys):
    assert check.main(["ch3.softmax", write(tmp_path, GOOD) + ":softmax",
                       "--examples", "2"]) == 0
    out = capsys.readouterr().out
    assert "PASSED" in out and "top-level code runs" not in out


def test_a_wrong_function_exits_1_and_names_the_show_topic(tmp_path, capsys):
    assert check.main(["softmax", write(tmp_path, NAIVE), "--examples", "2"]) == 1
    out = capsys.readouterr().out
    assert "FAIL stays finite for large logits" in out
    assert "python -m d2lnotes show ch3.softmax" in out


def test_a_notebook_exported_to_py_runs(tmp_path, capsys):
    exported = ("get_ipython().run_line_magic('matplotlib', 'inline')\n"
                "from d2l import torch as d2l\n" + GOOD)
    assert check.main(["ch3.softmax", write(tmp_path, exported), "--examples", "2"]) == 0


@pytest.mark.parametrize("argv, says", [
    (["ch3.softmax", "missing.py:softmax"], "does not exist"),
    (["ch3.sofmax", "x.py"], "did you mean ch3.softmax"),
    (["ch3.softmax"], "which function?"),
    (["ch3.softmax", "x.py", "--examples", "0"], "must be from 1"),
])
def test_a_bad_command_line_exits_2(argv, says, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.py").write_text(NAIVE)
    assert check.main(argv) == 2
    assert says in capsys.readouterr().err


@pytest.mark.parametrize("source, spec, says", [
    (NAIVE, ":sofmax", "has no function 'sofmax'; did you mean softmax?"),
    ("def softmax(X)\n    return X\n", ":softmax", "line 1: expected ':'"),
    ("import torch\nraise RuntimeError('half-written cell')\n", "",
     "raised RuntimeError: half-written cell"),
    ("softmax = 3\n", "", "is a int, not a function"),
    ("while True:\n    pass\n", "", "did not return within"),
])
def test_a_file_that_cannot_be_checked_exits_2(source, spec, says, tmp_path, capsys):
    path = write(tmp_path, source)
    assert check.main(["ch3.softmax", path + spec, "--time-limit", "0.1"]) == 2
    assert says in capsys.readouterr().err


def test_time_prints_one_line_per_topic(monkeypatch, capsys):
    from d2lnotes.check import topics

    two = {name: topics.TOPICS[name] for name in ("ch4.relu", "ch4.l2_penalty")}
    monkeypatch.setattr(topics, "TOPICS", two)
    assert check.main(["--time", "--examples", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:]] == ["ch4.relu", "ch4.l2_penalty", "all"]
    assert all(line.split()[2] == "s" for line in lines[1:])


@pytest.mark.slow
def test_the_package_command_runs_check(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "d2lnotes", "check", "ch3.softmax",
                           write(tmp_path, NAIVE), "--examples", "1"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert "stays finite for large logits" in proc.stdout


def test_the_command_list_names_check(capsys):
    from d2lnotes.__main__ import main

    assert main([]) == 0
    assert "python -m d2lnotes check" in capsys.readouterr().out


def test_show_names_the_checks_of_its_pieces():
    from d2lnotes import show

    shown = show("ch3.softmax")
    assert "python -m d2lnotes check ch3.softmax" in shown.render(100)
    assert "ch3.cross_entropy" in shown.checks() and "ch3.accuracy" in shown.checks()
    assert "d2lnotes check" in shown._repr_html_()
    assert show("ch2.linalg").checks() == ""


def test_docs_check_md_shows_the_listing_and_runs_its_python(capsys):
    from pathlib import Path

    text = (Path(__file__).parents[1] / "docs" / "check.md").read_text()
    assert check.main([]) == 0
    topic_lines = [line for line in capsys.readouterr().out.splitlines()
                   if line.startswith("  ch")]
    assert len(topic_lines) == len(CHECKS) and all(line in text for line in topic_lines)
    blocks = text.split("```python\n")[1:]
    assert blocks
    for block in blocks:
        exec(compile(block.split("```")[0], "docs/check.md", "exec"), {})
    assert "FAIL stays finite for large logits" in capsys.readouterr().out


@pytest.mark.slow
def test_a_report_piped_into_head_stops_quietly(tmp_path):
    (tmp_path / "mine.py").write_text(
        "import torch\n\ndef softmax(X):\n"
        "    return torch.exp(X) / torch.exp(X).sum(1, keepdim=True)\n")
    # head -c 0 exits at once, so the report always meets a closed pipe
    command = f"{sys.executable} -m d2lnotes check ch3.softmax mine.py:softmax | head -c 0"
    done = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
