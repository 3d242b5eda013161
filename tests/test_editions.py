"""Both editions' sections come from one table, and every place that names a section uses it."""

import re
from pathlib import Path

import pytest

from d2lnotes import editions
from d2lnotes.ch4.__main__ import TOPICS as CH4_TOPICS
from d2lnotes.ch4.__main__ import build_parser
from d2lnotes.editions import PLACES, cite
from d2lnotes.study import TOPICS as SHOW_TOPICS

SECTION = re.compile(r"§\d+\.\d+(\.\d+)?(-\d+\.\d+)?$")


def test_every_topic_has_both_editions():
    for key, place in PLACES.items():
        if key != "ch4.best":  # the recipe spans chapters
            assert SECTION.match(place.classic) and SECTION.match(place.edition_1), key
    # every show topic and every ch4 topic is in the table
    assert set(SHOW_TOPICS) <= set(PLACES)
    assert {f"ch4.{t.replace('-', '_')}" for t in CH4_TOPICS} <= set(PLACES)


def test_classic_numbering_is_the_packages_chapter_split():
    for key, place in PLACES.items():
        if key != "ch4.best":
            assert place.classic.startswith(f"§{key[2]}."), key  # ch3.* is in classic Chapter 3


@pytest.mark.parametrize("key, one_oh", [
    ("ch3.linreg", "§3.3-3.5"), ("ch3.softmax", "§4.4-4.5"), ("ch4.mlp", "§5.2"),
    ("ch4.backprop", "§5.3"), ("ch4.init", "§5.4"), ("ch4.dropout", "§5.6"),
    ("ch4.kaggle", "§5.7"), ("ch4.weight_decay", "§3.7")])
def test_one_oh_sections_follow_the_books_tables_of_contents(key, one_oh):
    # d2l-en's chapter_*/index.md list the 1.0 sections in order: regression §3.1-3.7
    # (3.3 synthetic data, 3.4-3.5 scratch and concise, 3.7 weight decay), classification
    # §4.1-4.6 (4.4-4.5 scratch and concise), MLPs §5.1-5.7 (5.2 implementation,
    # 5.3 backprop, 5.4 init, 5.6 dropout, 5.7 Kaggle).
    assert PLACES[key].edition_1 == one_oh


def test_cite_names_both_and_says_when_they_agree():
    assert cite("ch3.softmax") == "§3.6-3.7 (1.0 edition: §4.4-4.5)"
    assert cite("ch2.broadcast", "ch2.linalg") == "§2.1, §2.3 (1.0 edition: the same)"


def test_ch4_help_and_headers_take_their_sections_from_the_table(monkeypatch):
    monkeypatch.setitem(PLACES, "ch4.dropout", editions.Place("§9.9", "§8.8", "x", "y"))
    assert "§9.9 (1.0 edition: §8.8)" in build_parser().format_help()


def test_the_docs_table_is_the_packages():
    chapters = (Path(__file__).resolve().parent.parent / "docs" / "chapters.md").read_text()
    rows = re.findall(r"^\| [^|]*\(`([\w.]+)`\) \| ([^|]+) \| ([^|]+) \|", chapters, re.M)
    assert {k: (c.strip(), e.strip()) for k, c, e in rows} == {
        k: (p.classic, p.edition_1) for k, p in PLACES.items()}
