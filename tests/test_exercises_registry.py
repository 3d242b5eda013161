"""The exercises' registry and command line: every exercise listed once, numbered uniquely in
each edition, naming a test that exists; and ``python -m d2lnotes exercises`` run in-process."""

import ast
import json
import re
from pathlib import Path

import pytest

from d2lnotes.__main__ import main
from d2lnotes.exercises import KINDS, Answer, Answers, core, exercise, run, select

ROOT = Path(__file__).resolve().parents[1]
RECORD_KEYS = {"classic", "zh", "edition_1_0", "kind", "question", "answer", "values", "test"}


def exercises():
    return core.load()


def run_command(capsys, *argv):
    """``python -m d2lnotes exercises ARGV`` here: its exit status, stdout and stderr."""
    try:
        code = main(["exercises", *argv])
    except SystemExit as e:  # argparse's own errors exit from the parser, as in a shell
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def test_every_exercise_once_in_the_json(capsys, monkeypatch):
    """The JSON of all sections, with each answer stubbed (the answers have their own tests)."""
    monkeypatch.setattr(core.Exercise, "answer",
                        lambda self, seed=0: Answer(f"stub {self.classic}", {"seed": seed}))
    code, out, _ = run_command(capsys, "--json", "-", "--seed", "3")
    assert code == 0
    records = json.loads(out)["exercises"]
    numbers = [r["classic"] for r in records]
    assert len(numbers) == len(set(numbers)) == len(exercises())
    assert set(numbers) == set(core.EXERCISES)
    for record in records:
        assert set(record) == RECORD_KEYS
        assert record["kind"] in KINDS
        assert record["values"] == {"seed": 3}
        assert record["answer"] == f"stub {record['classic']}"


def test_the_json_of_a_real_section(capsys):
    """§3.6's values hold inf and nan: they must come out as strings, not as bare NaN."""

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    code, out, err = run_command(capsys, "3.6", "--json", "-")
    assert code == 0
    records = json.loads(out, parse_constant=refuse)["exercises"]
    assert [r["classic"] for r in records] == [f"3.6.{i}" for i in range(1, 6)]
    assert "§3.6: 5 answers in" in err  # the rest of the printing went to stderr
    naive = records[0]["values"]["naive_100_0"]
    assert naive == [["nan", 0.0]]


def test_each_named_test_exists():
    cache = {}
    for ex in exercises():
        path, _, name = ex.test.partition("::")
        if path not in cache:
            tree = ast.parse((ROOT / path).read_text())
            cache[path] = {node.name for node in ast.walk(tree)
                           if isinstance(node, ast.FunctionDef)}
        assert name in cache[path], f"{ex.classic}: {ex.test} does not exist"
        assert name.startswith(f"test_{ex.classic.replace('.', '_')}_")


def test_kinds_and_numbers_are_well_formed():
    for ex in exercises():
        assert ex.kind in KINDS
        assert re.fullmatch(r"\d+\.\d+\.\d+", ex.classic)
        for number in (ex.zh, ex.edition_1_0):
            assert number is None or re.fullmatch(r"\d+\.\d+\.\d+", number)
        # The Chinese 2nd edition keeps the classic sections; only the order inside differs.
        assert ex.zh is None or ex.zh.rsplit(".", 1)[0] == ex.section
        assert 10 < len(ex.question) <= 200  # one or two lines


@pytest.mark.parametrize("edition", ["zh", "edition_1_0"])
def test_numbers_unique_within_an_edition(edition):
    numbers = [getattr(ex, edition) for ex in exercises() if getattr(ex, edition)]
    assert len(numbers) == len(set(numbers))


def test_chinese_23_has_no_manhattan_question():
    by_zh = {ex.zh: ex for ex in exercises() if ex.zh}
    assert core.EXERCISES["2.3.7"].zh is None
    assert by_zh["2.3.7"].classic == "2.3.8" and by_zh["2.3.8"].classic == "2.3.9"


def test_a_bad_kind_or_a_second_registration_is_refused():
    with pytest.raises(ValueError, match="kind"):
        exercise("9.9.9", zh=None, edition_1_0=None, kind="opinion", question="?")
    with pytest.raises(ValueError, match="twice"):
        exercise("2.3.1", zh=None, edition_1_0=None, kind="fact", question="?")(lambda: None)


def test_listing(capsys):
    code, out, _ = run_command(capsys)
    assert code == 0
    counts = dict(re.findall(r"§(\d+\.\d+)\s+(\d+) exercise", out))
    assert counts["2.3"] == "9" and counts["3.6"] == "5"
    assert sum(map(int, counts.values())) == len(exercises())
    code, out, _ = run_command(capsys, "--edition", "zh")
    assert dict(re.findall(r"§(\d+\.\d+)\s+(\d+) exercise", out))["2.3"] == "8"


def test_a_section_prints_its_answers_and_figures(capsys, tmp_path):
    code, out, _ = run_command(capsys, "2.4.1", "--out", str(tmp_path))
    assert code == 0
    assert "2.4.1 (derivation; zh 2.4.1, 1.0 2.4.6)" in out
    assert "§2.4: 1 answer in" in out
    assert (tmp_path / "2_4_1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, out, _ = run_command(capsys, "2.4.1", "--out", str(tmp_path / "none"), "--no-plots",
                               "--quiet")
    assert code == 0 and not (tmp_path / "none").exists()
    assert "derivation" not in out and "§2.4: 1 answer in" in out


@pytest.mark.parametrize("edition, number, classic", [("zh", "2.3.7", "2.3.8"),
                                                      ("1.0", "4.4.1", "3.6.1")])
def test_edition_numbers(capsys, edition, number, classic):
    code, out, _ = run_command(capsys, number, "--edition", edition)
    assert code == 0
    assert out.startswith(f"§{number.rsplit('.', 1)[0]}\n")
    assert f"\n{number} (" in out and f"classic {classic}" in out


@pytest.mark.parametrize("argv, message", [
    (["9.9"], "no answered exercise is numbered 9.9"),
    (["3.6.99"], "no answered exercise is numbered 3.6.99"),
    (["softmax"], "section must look like 3.6"),
    (["2.3.9", "--edition", "zh"], "no answered exercise is numbered 2.3.9"),
    (["--edition", "2.0"], "invalid choice"),
])
def test_bad_section_or_edition_is_one_line(capsys, argv, message):
    code, out, err = run_command(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1 and err.startswith("error: ")


def test_run_from_python():
    answers = run("2.3.4")
    assert isinstance(answers, Answers) and len(answers) == 1
    ex, answer = answers[0]
    assert ex.classic == "2.3.4" and answer.values["len"] == 2
    assert "2.3.4 (fact)" in str(answers)
    assert "<table>" in answers._repr_html_() and "len(X)" in answers._repr_html_()
    assert answers.to_json()["exercises"][0]["classic"] == "2.3.4"
    assert [ex.zh for ex, _ in run("2.3", edition="zh")] == [f"2.3.{i}" for i in range(1, 9)]
    with pytest.raises(ValueError):
        run("9.9")
    assert len(select()) == len(exercises())
