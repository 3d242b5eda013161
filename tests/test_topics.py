"""``d2lnotes.utils.topics``: each chapter topic declared once, one driver for ch2-ch4, and
the names a learner types (the README's ``ch4.dropout``, ``--section probability``)."""

import importlib
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

from d2lnotes import ch2, ch3, ch4
from d2lnotes.ch2.__main__ import build_parser as ch2_parser
from d2lnotes.editions import ALIASES, PLACES
from d2lnotes.study import show
from d2lnotes.utils import topics
from d2lnotes.utils.errors import UsageError

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = {"ch2": ch2, "ch3": ch3, "ch4": ch4}
DECLARED = [t for chapter in CHAPTERS.values() for t in chapter.TOPICS.values()]


def _experiment(topic):
    module, name = topic.experiment.split(":")
    return getattr(importlib.import_module(f"{topic.package}.{module}"), name)


@pytest.mark.parametrize("topic", DECLARED, ids=lambda t: t.key)
def test_a_topic_is_one_declaration(topic):
    chapter = CHAPTERS[topic.key.split(".")[0]]
    assert topic.key in PLACES                      # its sections, in both editions
    assert callable(topic.report())                 # report.<python_name>
    resolved = getattr(chapter, topic.python_name)  # ch4.dropout in Python
    if topic.key == "ch4.kaggle":  # the module, whose experiment is ch4.kaggle.house_prices
        assert resolved.house_prices is _experiment(topic)
    else:
        assert resolved is _experiment(topic)


@pytest.mark.slow
def test_every_place_and_alias_resolves_in_a_fresh_process():
    # The README's and show's topic names, and the ones the review found missing.
    names = sorted({*PLACES, *ALIASES})
    code = ("import importlib\n"
            f"for key in {names!r}:\n"
            "    chapter, name = key.split('.')\n"
            "    getattr(importlib.import_module('d2lnotes.' + chapter), name)\n"
            "from d2lnotes import ch4\n"
            "ch4.kaggle.house_prices; ch4.recipe; ch4.report\n"
            "print('ok')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       timeout=120)
    assert r.returncode == 0 and r.stdout == "ok\n", r.stderr


def test_a_typo_on_a_chapter_module_suggests_close_names():
    with pytest.raises(AttributeError, match=r"'dropuot'; did you mean dropout\b"):
        ch4.dropuot  # noqa: B018
    with pytest.raises(AttributeError, match="compare_softmax_regression"):
        ch3.compare_softmax  # noqa: B018
    with pytest.raises(AttributeError) as e:
        ch2.zzzzzz  # noqa: B018
    assert "did you mean" not in str(e.value)
    # said once, not again by Python's own suggestion in the traceback
    try:
        ch4.kagle  # noqa: B018
    except AttributeError as e:
        shown = "".join(traceback.format_exception_only(type(e), e))
    assert shown.lower().count("did you mean") == 1 and "kaggle" in shown
    # and dir() lists the lazy names, for completion in Jupyter
    assert {"dropout", "compare_dropout", "kaggle", "recipe", "TOPICS"} <= set(dir(ch4))


def test_one_name_per_section_and_the_books_word_as_an_alias():
    assert ch2_parser().parse_args(["--section", "probability"]).section == "sampling"
    assert ch2_parser().parse_args(["--section", "sampling"]).section == "sampling"
    assert ch2.SECTIONS == tuple(ch2.TOPICS) and "sampling" in ch2.SECTIONS
    assert show("ch2.probability").topic is show("ch2.sampling").topic
    assert ch2.probability is ch2.sampling is ch2.probability_tour


def test_select_takes_python_spellings_and_suggests_on_typos():
    assert topics.select(["weight_decay", "model-selection"], ch4.TOPICS) == [
        "model-selection", "weight-decay"]
    assert "best" not in topics.select([], ch4.TOPICS)
    with pytest.raises(UsageError, match=r"unknown topic 'dropot' \(did you mean dropout\?\)"):
        topics.select(["dropot"], ch4.TOPICS)


def test_help_lists_every_declared_topic_under_its_command_line_name():
    from d2lnotes.ch4.__main__ import build_parser as ch4_parser

    text = ch4_parser().format_help()
    for topic in ch4.TOPICS.values():
        assert f"  {topic.name:<16} " in text and topic.lines()[0] in text
    text = ch2_parser().format_help()
    assert all(f"  {name:<14} §2." in text for name in ch2.SECTIONS)


# --- the driver -------------------------------------------------------------------------

def _report(results, summary="ok", error=None):
    def report(run, say):
        say("table")
        if error:
            raise error
        return results, summary

    return report


def test_drive_keeps_going_past_a_failing_topic(monkeypatch, capsys):
    from d2lnotes.ch4 import report

    monkeypatch.setattr(report, "activations", _report({"a": 1}))
    monkeypatch.setattr(report, "mlp", _report(None, error=RuntimeError("broken")))
    monkeypatch.setattr(report, "init", _report({"i": 2}, "fine"))
    chosen = [ch4.TOPICS[n] for n in ("activations", "mlp", "init")]
    run = topics.Run(quiet=False)
    done = topics.drive(chosen, run, between=lambda: print("--"), keep_going=True)
    assert done.results == {"activations": {"a": 1}, "init": {"i": 2}}
    assert done.failed == {"mlp": "RuntimeError: broken"}
    assert set(done.seconds) == {"activations", "mlp", "init"}
    assert done.summaries["mlp"] == "FAILED: RuntimeError: broken"
    assert capsys.readouterr().out == "table\n--\ntable\n--\ntable\n"
    assert done.failure() == 1
    assert capsys.readouterr().err.startswith("error: 1 of 3 topics failed (mlp)")


def test_drive_without_keep_going_lets_the_error_through(monkeypatch):
    from d2lnotes.ch4 import report

    monkeypatch.setattr(report, "init", _report(None, error=UsageError("bad")))
    with pytest.raises(UsageError, match="bad"):
        topics.drive([ch4.TOPICS["init"]], topics.Run())


def test_run_from_args_takes_what_it_has_a_field_for(tmp_path):
    args = ch2_parser().parse_args(["--out", str(tmp_path), "--seed", "3", "--quiet"])
    run = topics.Run.from_args(args, "cpu", data_dir=tmp_path / "d")
    assert (run.seed, run.quiet, run.out, run.data_dir) == (3, True, tmp_path, tmp_path / "d")
    args = ch2_parser().parse_args(["--no-plots"])
    assert topics.Run.from_args(args, "cpu").out is None
