"""Reliability, round 2: outputs never replace what they should not, corrupt data content is
caught, every filesystem fault and stop signal is one clear line, and the API refuses bad
labels, shapes and empty data by name."""

import errno
import functools
import gzip
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from d2lnotes import d2l
from d2lnotes.ch2.__main__ import main as ch2_main
from d2lnotes.ch3 import scratch as ch3
from d2lnotes.ch4 import kaggle
from d2lnotes.ch4 import scratch as ch4
from d2lnotes.utils import cli, data, io, train
from d2lnotes.utils.errors import DataError

ROOT = Path(__file__).resolve().parent.parent


def _parts(folder):
    return [p for p in Path(folder).rglob("*") if p.name.endswith(".part")]


def _one_line(err):
    return err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err


def _ch2(tmp_path, *argv):
    """The fastest chapter command: §2.4, which writes one PNG and, with --json, one JSON."""
    return cli.run(ch2_main, ["--section", "calculus", "--data-dir", str(tmp_path / "data"),
                              *map(str, argv)])


# --- running something as a normal user (the tests may run as root, as in a container) ---

# Root passes every permission check, so these tests run their child without root's powers:
# as uid 65534 where that user can reach the interpreter and the package, or else (the
# checkout in root's mode-700 home, a Docker image) as root stripped of every capability,
# for whom permission bits hold as for any owner: a mode-555 folder is read-only.
_AS_NOBODY = ["--reuid=65534", "--regid=65534", "--clear-groups"]
_NO_CAPABILITIES = ["--inh-caps=-all", "--bounding-set=-all",
                    "--securebits=+noroot,+noroot_locked,+no_setuid_fixup,+no_setuid_fixup_locked"]


@functools.cache
def _unprivileged_prefix():
    """The command prefix that drops root's powers, or the reason none works here."""
    if os.geteuid() != 0:
        return [], None
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None, "running as root and setpriv is missing, so no normal user to test with"
    why = []
    for how in (_AS_NOBODY, _NO_CAPABILITIES):
        probe = subprocess.run([setpriv, *how, sys.executable, "-c",
                                "import d2lnotes; print(d2lnotes.__file__)"],
                               cwd="/", env=_child_env(Path("/")), capture_output=True,
                               text=True, timeout=60)
        if probe.returncode == 0 and Path(probe.stdout.strip()).is_relative_to(ROOT):
            return [setpriv, *how], None
        lines = probe.stderr.strip().splitlines() or [f"it imports {probe.stdout.strip()}"]
        why.append(lines[-1])
    return None, ("no unprivileged user can run the package here: as uid 65534, "
                  f"{why[0]}; as root without capabilities, {why[1]}")


def _normal_user_command(cmd):
    prefix, why = _unprivileged_prefix()
    if prefix is None:
        pytest.skip(why)
    return [*prefix, *cmd]


@pytest.mark.slow
def test_the_unprivileged_child_cannot_write_a_read_only_folder(public_tmp):
    """The guard for the tests below: their child really lacks root's write permission."""
    ro = public_tmp / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    r = subprocess.run(_normal_user_command(
        [sys.executable, "-c", "import sys; open(sys.argv[1], 'w')", str(ro / "x")]),
        capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "PermissionError" in r.stderr, r.stderr
    assert not (ro / "x").exists()


@pytest.fixture
def public_tmp():
    """A temporary folder a normal user can enter (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="d2lnotes-rel-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _child_env(cwd):
    home = cwd / "home"  # for matplotlib's cache: a folder the normal user can write
    return {**os.environ, "HOME": str(home), "MPLCONFIGDIR": str(home / "mpl"),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                        os.environ.get("PYTHONPATH")]))}


def _run_as_normal_user(args, cwd):
    home = cwd / "home"
    home.mkdir(exist_ok=True)
    home.chmod(0o777)
    return subprocess.run(_normal_user_command([sys.executable, *args]), cwd=cwd,
                          env=_child_env(cwd), capture_output=True, text=True, timeout=300)


# --- 1. outputs: symlinks, devices, FIFOs, standard output ----------------------------------

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


@pytest.mark.slow
def test_dev_null_works_for_a_normal_user_and_stays_a_device(public_tmp):
    r = _run_as_normal_user(["-m", "d2lnotes.ch2", "--section", "calculus", "--no-plots",
                             "--json", "/dev/null"], public_tmp)
    assert r.returncode == 0, r.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


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


# --- 2. a full disk -------------------------------------------------------------------------

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


# --- 4. over-long names ---------------------------------------------------------------------

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


# --- 5, 7, 8, 9. Fashion-MNIST content, repairs and the system copy --------------------------

@pytest.fixture
def raw_copy(tmp_path, fashion_mnist_raw):
    """A data root holding the four verified files: labels copied, images hard-linked."""
    src = fashion_mnist_raw
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in data.FASHION_MNIST_FILES:
        if "labels" in name:
            shutil.copy(src / name, raw / name)
        else:
            os.link(src / name, raw / name)
    return tmp_path


def _corrupt_a_label(raw):
    path = raw / "train-labels-idx1-ubyte"
    content = bytearray(path.read_bytes())
    content[8 + 1234] = 200  # past the header: only the content can tell
    path.write_bytes(bytes(content))
    return path


def test_hashes_are_the_published_ones(fashion_mnist_raw):
    # torchvision (up to 0.8) listed these MD5s for the *decompressed* files.
    md5 = {"train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
           "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
           "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
           "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965"}
    import hashlib

    raw = fashion_mnist_raw
    for name, digest in md5.items():
        assert hashlib.md5((raw / name).read_bytes()).hexdigest() == digest
    assert set(data.FASHION_MNIST_SHA256) == set(md5)


def test_corrupt_content_is_named_and_refused_without_a_system_copy(raw_copy, monkeypatch):
    path = _corrupt_a_label(raw_copy / "FashionMNIST" / "raw")
    monkeypatch.setenv("D2LNOTES_SYSTEM_DATA", "")
    with pytest.raises(DataError) as e:
        data.ensure_fashion_mnist(raw_copy, download=False)
    assert str(path) in str(e.value) and "SHA-256" in str(e.value)


@pytest.mark.skipif(not any(d.is_dir() for d in data.system_dirs()),
                    reason="needs Debian's dataset-fashion-mnist (installed by .ci/run)")
def test_corrupt_content_is_repaired_from_the_system_copy_in_one_line(raw_copy, capsys):
    path = _corrupt_a_label(raw_copy / "FashionMNIST" / "raw")
    data.ensure_fashion_mnist(raw_copy, download=False)
    X, y, *_ = data.read_fashion_mnist(raw_copy, download=False)
    assert int(y.max()) == 9
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and "SHA-256" in err
    assert str(data.system_dirs()[0]) in err


def test_verified_files_are_hashed_once(raw_copy, monkeypatch):
    calls = []
    real = data.file_digest
    monkeypatch.setattr(data, "file_digest", lambda p: calls.append(p) or real(p))
    data.ensure_fashion_mnist(raw_copy, download=False)
    assert len(calls) == 4
    data.ensure_fashion_mnist(raw_copy, download=False)
    assert len(calls) == 4  # the stamp vouches for unchanged files
    _corrupt_a_label(raw_copy / "FashionMNIST" / "raw")
    monkeypatch.setenv("D2LNOTES_SYSTEM_DATA", "")
    with pytest.raises(DataError):
        data.ensure_fashion_mnist(raw_copy, download=False)
    assert len(calls) == 5  # only the changed file is read again


def test_a_folder_in_the_way_is_named_as_a_folder(raw_copy):
    path = raw_copy / "FashionMNIST" / "raw" / "t10k-labels-idx1-ubyte"
    path.unlink()
    path.mkdir()
    with pytest.raises(DataError) as e:
        data.ensure_fashion_mnist(raw_copy, download=False)
    assert str(path) in str(e.value) and "folder" in str(e.value)
    assert "missing" not in str(e.value) and "apt-get" not in str(e.value)


@pytest.mark.slow
def test_system_data_env_points_elsewhere_or_turns_the_copy_off(tmp_path, monkeypatch,
                                                               fashion_mnist_raw):
    src = fashion_mnist_raw
    system = tmp_path / "system"
    system.mkdir()
    for name in data.FASHION_MNIST_FILES:  # level 1: a second for all four
        payload = (src / name).read_bytes()
        (system / f"{name}.gz").write_bytes(gzip.compress(payload, compresslevel=1))
    monkeypatch.setenv("D2LNOTES_SYSTEM_DATA", str(system))
    raw = data.ensure_fashion_mnist(tmp_path / "a", download=False)
    assert data.check_idx(raw / "t10k-labels-idx1-ubyte",
                          *data.FASHION_MNIST_FILES["t10k-labels-idx1-ubyte"]) is None
    monkeypatch.setenv("D2LNOTES_SYSTEM_DATA", "")
    with pytest.raises(DataError, match="apt-get"):
        data.ensure_fashion_mnist(tmp_path / "b", download=False)


@pytest.mark.skipif(not any(d.is_dir() for d in data.system_dirs()),
                    reason="needs Debian's dataset-fashion-mnist (installed by .ci/run)")
def test_a_repair_survives_another_process_removing_the_file_first(raw_copy, monkeypatch):
    path = raw_copy / "FashionMNIST" / "raw" / "train-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes()[:100])  # truncated
    real_check = data.check_idx
    raced = []

    def check_then_race(p, *spec):
        problem = real_check(p, *spec)
        if Path(p) == path and problem and not raced:
            path.unlink()  # another run, repairing the same file, removes it first
            raced.append(p)
        return problem

    monkeypatch.setattr(data, "check_idx", check_then_race)
    data.ensure_fashion_mnist(raw_copy, download=False)
    assert raced
    data.ensure_fashion_mnist(raw_copy, download=False)  # and once more: nothing to do
    assert real_check(path, *data.FASHION_MNIST_FILES[path.name]) is None


# --- 6. unusable data folders ---------------------------------------------------------------

def test_a_data_dir_that_is_a_file_is_a_usage_error(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert cli.run(ch2_main, ["--section", "calculus", "--no-plots",
                              "--data-dir", str(afile)]) == 2
    err = capsys.readouterr().err
    assert _one_line(err) and str(afile) in err and "not a folder" in err


def test_raw_being_a_file_is_one_clear_error(tmp_path):
    (tmp_path / "FashionMNIST").mkdir()
    (tmp_path / "FashionMNIST" / "raw").write_text("x")
    with pytest.raises(DataError) as e:
        data.ensure_fashion_mnist(tmp_path, download=False)
    assert str(tmp_path / "FashionMNIST" / "raw") in str(e.value) and "is a file" in str(e.value)


def test_a_corrupt_file_in_a_read_only_folder_is_one_clear_error(raw_copy, monkeypatch):
    _corrupt_a_label(raw_copy / "FashionMNIST" / "raw")
    real_open = open

    def read_only(path, mode="r", *a, **k):
        if "w" in mode:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, mode, *a, **k)

    monkeypatch.setattr(data, "open", read_only, raising=False)
    with pytest.raises(DataError) as e:
        data.ensure_fashion_mnist(raw_copy, download=False)
    msg = str(e.value)
    assert str(raw_copy / "FashionMNIST" / "raw") in msg and "Permission denied" in msg
    assert "--data-dir" in msg
    assert not _parts(raw_copy)


@pytest.mark.slow
def test_a_read_only_house_tiny_folder_is_one_line_for_a_normal_user(public_tmp):
    ro = public_tmp / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    r = _run_as_normal_user(["-m", "d2lnotes.ch2", "--section", "preprocessing", "--no-plots",
                             "--data-dir", str(ro)], public_tmp)
    assert r.returncode == 1 and _one_line(r.stderr), r.stderr
    assert f"could not write {ro / 'house_tiny.csv'}: Permission denied" in r.stderr


@pytest.mark.slow
@pytest.mark.skipif(not any(d.is_dir() for d in data.system_dirs()),
                    reason="needs Debian's dataset-fashion-mnist (installed by .ci/run)")
def test_a_read_only_empty_data_dir_is_one_line_for_a_normal_user(public_tmp):
    ro = public_tmp / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    script = ("import sys; from d2lnotes.utils import cli, data; "
              "sys.exit(cli.run(lambda argv: data.ensure_fashion_mnist(argv[0]) and 0, "
              "sys.argv[1:]))")
    r = _run_as_normal_user(["-c", script, str(ro)], public_tmp)
    assert r.returncode == 1 and _one_line(r.stderr), r.stderr
    assert f"cannot import Fashion-MNIST into {ro / 'FashionMNIST' / 'raw'}" in r.stderr
    assert "Permission denied" in r.stderr and "--data-dir" in r.stderr


# --- 10, 12. the command line -----------------------------------------------------------------

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


# --- 13, 14. stopping: Ctrl-C in the benchmark, SIGTERM and SIGHUP ---------------------------

def _wait_for(proc, text, limit=300):
    """Read the child's stdout until a line holds ``text``; the child cannot finish first.

    A child that never prints it is killed after ``limit`` seconds, so a changed line fails
    the test instead of leaving a 100000-epoch run behind.
    """
    watchdog = threading.Timer(limit, proc.kill)
    watchdog.start()
    try:
        for line in proc.stdout:
            if text in line:
                return
    finally:
        watchdog.cancel()
    proc.kill()
    raise AssertionError(f"{text!r} never printed: {proc.stderr.read()}")


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129),
                                       (signal.SIGINT, 130)])
def test_a_stop_signal_while_writing_removes_the_part_file(tmp_path, capsys, sig, code):
    target = tmp_path / "f.json"

    def main(argv):
        with io.atomic_path(target) as tmp:
            tmp.write_text("half")
            os.kill(os.getpid(), sig)  # delivered before the next bytecode: deterministic
            tmp.write_text("all")
        return 0

    # A shell's background job starts with SIGINT ignored; Ctrl-C's own handler is the case here.
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        assert cli.run(main, []) == code
    finally:
        signal.signal(signal.SIGINT, before)
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and "no partial output file" in err
    assert not target.exists() and not _parts(tmp_path)
    assert signal.getsignal(signal.SIGTERM) is not cli._terminate  # handlers restored


@pytest.mark.slow
def test_sigterm_stops_a_training_run_like_ctrl_c(tmp_path, fashion_mnist_raw):
    sig, code = signal.SIGTERM, 143
    out, js = tmp_path / "out", tmp_path / "f.json"
    # With a system copy, an empty --data-dir: the signal may land while it is imported.
    has_copy = any(d.is_dir() for d in data.system_dirs())
    root = tmp_path / "data" if has_copy else fashion_mnist_raw.parents[1]
    proc = subprocess.Popen([sys.executable, "-m", "d2lnotes.ch3", "--epochs", "100000",
                             "--out", str(out), "--json", str(js), "--data-dir", str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Linear regression's epoch rows are done; the next header means Fashion-MNIST is being
    # imported into the empty --data-dir or softmax regression is training.
    _wait_for(proc, "softmax regression on Fashion-MNIST")
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    # one line, after the import's own announcement if the import had finished
    *before, last = err.strip().splitlines()
    assert f"stopped by {signal.Signals(sig).name}" in last
    assert all(line.startswith("d2lnotes: Fashion-MNIST") for line in before) and len(before) < 2
    assert not js.exists() and not list(out.glob("*.png")) and not _parts(tmp_path)


@pytest.mark.slow
def test_bench_ctrl_c_stops_its_dataloader_workers_quietly(tmp_path, fashion_mnist_raw):
    proc = subprocess.Popen([sys.executable, "-m", "d2lnotes.bench", "--models", "softmax",
                             "--subset", "256", "--epochs", "40", "--skip-e2e"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    _wait_for(proc, "A softmax: epoch 1/")
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C does: workers included
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "BrokenPipeError" not in err
    assert err.strip().startswith("interrupted;")


# --- 15, 16, 17. the API: labels, shapes, empty data ------------------------------------------

def test_uint8_labels_just_work():
    y_hat = torch.full((3, 10), 0.1)
    y = torch.tensor([0, 9, 3], dtype=torch.uint8)
    torch.testing.assert_close(ch3.cross_entropy(y_hat, y), ch3.cross_entropy(y_hat, y.long()))
    logits = torch.randn(3, 10)
    torch.testing.assert_close(ch4.softmax_cross_entropy(logits, y),
                               torch.nn.functional.cross_entropy(logits, y.long(),
                                                                 reduction="none"))


@pytest.mark.parametrize("loss", [ch3.cross_entropy, ch4.softmax_cross_entropy])
@pytest.mark.parametrize("bad", [-1, 3, 200])
def test_out_of_range_labels_are_a_value_error_naming_the_value(loss, bad):
    with pytest.raises(ValueError, match=rf"labels must lie in \[0, 2\], got {bad}\b"):
        loss(torch.full((2, 3), 1 / 3), torch.tensor([0, bad]))


@pytest.mark.parametrize("loss", [ch3.cross_entropy, ch4.softmax_cross_entropy])
def test_bool_labels_are_a_type_error(loss):
    with pytest.raises(TypeError, match="torch.bool"):
        loss(torch.full((2, 3), 1 / 3), torch.tensor([True, False]))


def test_linreg_refuses_a_bias_that_would_grow_the_output():
    with pytest.raises(ValueError, match=r"b of shape \(7,\).*\(5, 1\)"):
        ch3.linreg(torch.ones(5, 2), torch.ones(2, 1), torch.zeros(7))


@pytest.mark.parametrize("batch_size", [0, -1, 0.5, True])
def test_sgd_refuses_a_batch_size_below_1(batch_size):
    w = torch.ones(2, requires_grad=True)
    (w * 2).sum().backward()
    with pytest.raises(ValueError, match="batch_size"):
        d2l.sgd([w], 0.1, batch_size)  # the book's convention lives in the book API
    assert torch.equal(w.detach(), torch.ones(2))


@pytest.mark.parametrize("batch_size", [np.int64(2), np.int32(2), torch.tensor(2)])
def test_load_array_takes_any_integral_batch_size(batch_size):
    loader = data.load_array((torch.arange(5.0),), batch_size, shuffle=False)
    assert [len(b[0]) for b in loader] == [2, 2, 1]


@pytest.mark.parametrize("labels, error", [([-1], ValueError), ([10], ValueError),
                                            ([1.5], TypeError), ([True], TypeError)])
def test_fashion_mnist_labels_are_range_checked(labels, error):
    with pytest.raises(error, match="fashion_mnist_labels"):
        data.fashion_mnist_labels(labels)


def test_fashion_mnist_labels_takes_tensors_of_any_integer_dtype():
    y = torch.tensor([0, 9], dtype=torch.uint8)
    assert data.fashion_mnist_labels(y) == ["t-shirt", "ankle boot"]


def test_train_on_an_empty_loader_is_a_value_error():
    empty = data.load_array((torch.zeros(0, 2), torch.zeros(0, 1)), 4)
    net = ch3.LinearRegression(2)
    with pytest.raises(ValueError, match="no batches"):
        train.train(net, empty, None, ch3.squared_loss, 1, ch3.SGD(net.parameters(), 0.1))


def test_evaluate_and_accuracy_on_empty_data_are_value_errors():
    empty = data.load_array((torch.zeros(0, 4), torch.zeros(0, dtype=torch.long)), 4)
    with pytest.raises(ValueError, match="no examples"):
        train.evaluate(lambda X: X, empty)
    with pytest.raises(ValueError, match="no examples"):
        train.accuracy(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long))


def test_k_fold_with_more_folds_than_examples_is_a_value_error():
    with pytest.raises(ValueError, match="k = 5 examples.*got 3"):
        kaggle.k_fold(5, torch.zeros(3, 2), torch.zeros(3, 1), num_epochs=1)


# --- 18. determinism depends on the thread count ----------------------------------------------

def test_json_settings_record_the_thread_count(tmp_path, capsys):
    js = tmp_path / "f.json"
    assert _ch2(tmp_path, "--no-plots", "--json", js) == 0
    assert json.loads(js.read_text())["settings"]["num_threads"] == torch.get_num_threads()
