"""utils/io.py: a user's outputs follow symlinks, the package's own files replace them, and a
symlink that leads nowhere is named."""

import errno
import json
import os
import stat
from pathlib import Path

from d2lnotes.ch2.__main__ import main as ch2_main
from d2lnotes.utils import cli, io


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


def _parts(folder):
    return [p for p in Path(folder).rglob("*") if p.name.endswith(".part")]


def _ch2(tmp_path, *argv):
    """The fastest chapter command: §2.4, which writes one PNG and, with --json, one JSON."""
    return cli.run(ch2_main, ["--section", "calculus", "--data-dir", str(tmp_path / "data"),
                              *map(str, argv)])

# --- outputs: symlinks, devices, FIFOs, standard output ------------------------------------------


def test_a_symlink_target_is_replaced_and_the_link_stays(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    io.write_json(link, {"a": 1})
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert json.loads(real.read_text()) == {"a": 1}
    assert not _parts(tmp_path)


def _read_fifo_while(fifo, write):
    """What ``write()`` sends into the FIFO; opened for reading first, so nothing blocks."""
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write()
        return os.read(fd, 1 << 20)  # small outputs: they fit in the pipe's buffer
    finally:
        os.close(fd)


def test_a_fifo_is_written_into_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = _read_fifo_while(fifo, lambda: io.write_json(fifo, {"a": 1}))
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert json.loads(got) == {"a": 1}


def test_json_dash_writes_the_json_alone_to_stdout(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _ch2(tmp_path, "--no-plots", "--json", "-") == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["results"]["calculus"]["all_true"] is True
    assert "checks True" in err  # the tour itself moved to stderr
    assert not (tmp_path / "-").exists()


def test_dev_null_as_json_target_stays_a_device_in_process(tmp_path, capsys):
    """The same in this process, with whatever powers it has (root's, in a container)."""
    assert _ch2(tmp_path, "--no-plots", "--json", "/dev/null") == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert "checks True" in capsys.readouterr().out


def test_a_png_to_a_fifo_is_written_into(tmp_path):
    from d2lnotes.utils import plot

    fifo = tmp_path / "plot.png"
    os.mkfifo(fifo)
    fig, ax = plot.new_figure(1, 1, figsize=(1, 1))
    got = _read_fifo_while(fifo, lambda: plot.save(fig, fifo, dpi=20))
    assert got.startswith(b"\x89PNG") and stat.S_ISFIFO(os.stat(fifo).st_mode)

# --- a full disk ---------------------------------------------------------------------------------


def _disk_full_after(nbytes):
    """An ``open`` whose files take ``nbytes`` and then fail as a full disk does."""
    real_open = open

    class Full:
        def __init__(self, f):
            self.f, self.left = f, nbytes

        def write(self, text):
            if len(text) > self.left:
                self.f.write(text[: self.left])
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self.left -= len(text)
            return self.f.write(text)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    return lambda *a, **k: Full(real_open(*a, **k))


def test_a_full_disk_writing_json_is_one_line_and_leaves_no_part(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(io, "open", _disk_full_after(10), raising=False)
    js = tmp_path / "f.json"
    assert _ch2(tmp_path, "--no-plots", "--json", js) == 1
    out, err = capsys.readouterr()
    assert err == f"error: could not write {js}: No space left on device\n"
    assert "checks True" in out  # the figures were printed before the write failed
    assert not js.exists() and not _parts(tmp_path)


def test_a_full_disk_writing_a_png_is_one_line_and_leaves_no_part(tmp_path, monkeypatch, capsys):
    from matplotlib.figure import Figure

    def savefig(self, fname, **kwargs):
        Path(fname).write_bytes(b"\x89PNG half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Figure, "savefig", savefig)
    out = tmp_path / "out"
    assert _ch2(tmp_path, "--out", out) == 1
    err = capsys.readouterr().err
    assert err == f"error: could not write {out / 'tangent_line.png'}: No space left on device\n"
    assert not list(out.iterdir())

