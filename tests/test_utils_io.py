"""utils/io.py: a user's outputs follow symlinks, the package's own files replace them, and a
symlink that leads nowhere is named."""

import json
import os

from d2lnotes.utils import io


def test_an_output_follows_a_symlink_but_an_internal_file_replaces_it(tmp_path):
    target = tmp_path / "target.json"
    target.write_text("{}")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    io.write_json(link, {"a": 1})  # --json: the documented rule, the link stays
    assert link.is_symlink() and json.loads(target.read_text()) == {"a": 1}
    io.write_json(link, {"b": 2}, follow_symlinks=False)  # the stamp: the link goes
    assert not link.is_symlink() and json.loads(link.read_text()) == {"b": 2}
    assert json.loads(target.read_text()) == {"a": 1}


def test_an_internal_file_replaces_a_fifo_instead_of_writing_into_it(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with io.atomic_path(fifo, follow_symlinks=False) as tmp:  # would block if opened
        tmp.write_bytes(b"data")
    assert fifo.is_file() and fifo.read_bytes() == b"data"


def test_a_dangling_symlink_or_a_loop_is_named_and_a_good_one_is_not(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "good").symlink_to(tmp_path / "real")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    assert io.broken_link(tmp_path / "good" / "a" / "b") is None
    assert io.broken_link(tmp_path / "plain" / "a") is None
    assert io.broken_link(tmp_path / "loop" / "a") == f"{tmp_path / 'loop'} is a symlink loop"
    assert io.broken_link(tmp_path / "dangling") == \
        f"{tmp_path / 'dangling'} is a symlink to {tmp_path / 'gone'}, which is missing"
