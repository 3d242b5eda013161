"""The Fashion-MNIST cache in utils/data.py against hostile folders: in-place edits, mixed
damage, a second process, bad stamps, broken symlinks and links inside the folder."""

import gzip
import json
import os
import shutil
import time
from pathlib import Path

import pytest

from d2lnotes.ch3.__main__ import main as ch3_main
from d2lnotes.utils import cli, data
from d2lnotes.utils.errors import DataError

SYSTEM_COPY = Path("/usr/share/datasets/fashion-mnist")
LABELS = "train-labels-idx1-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"


@pytest.fixture
def root(tmp_path, fashion_mnist_raw):
    """A data root holding the four verified files: labels copied, images hard-linked."""
    raw = tmp_path / "root" / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in data.FASHION_MNIST_FILES:
        if "labels" in name:
            shutil.copy(fashion_mnist_raw / name, raw / name)
        else:
            os.link(fashion_mnist_raw / name, raw / name)
    return tmp_path / "root"


@pytest.fixture(scope="session")
def system_copy(tmp_path_factory, fashion_mnist_raw):
    """A folder of the four ``.gz`` files: Debian's if installed, else made from the session's."""
    if all((SYSTEM_COPY / f"{n}.gz").is_file() for n in data.FASHION_MNIST_FILES):
        return SYSTEM_COPY
    copy = tmp_path_factory.mktemp("system")
    for name in data.FASHION_MNIST_FILES:
        with open(fashion_mnist_raw / name, "rb") as fin, \
                gzip.open(copy / f"{name}.gz", "wb", 1) as fout:
            shutil.copyfileobj(fin, fout)
    return copy


def _flip_a_label_in_place(path):
    """Change one byte past the header, keeping the size, inode and mtime."""
    before = path.stat()
    with open(path, "r+b") as f:
        f.seek(8 + 1234)
        old = f.read(1)
        f.seek(8 + 1234)
        f.write(bytes([(old[0] + 1) % 10]))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    return before


def _sound(raw, name):
    return data.check_idx(raw / name, *data.FASHION_MNIST_FILES[name]) is None and \
        data.file_digest(raw / name) == data.FASHION_MNIST_SHA256[name]


# --- the stamp ------------------------------------------------------------------------------

def test_a_byte_changed_in_place_with_its_mtime_restored_is_hashed_again(root, monkeypatch):
    monkeypatch.setenv("D2LNOTES_SYSTEM_DATA", "")
    raw = data.ensure_fashion_mnist(root, download=False)  # verified: the stamp vouches now
    path = raw / LABELS
    before = path.stat()
    while path.stat().st_ctime_ns == before.st_ctime_ns:  # the kernel's clock is coarse
        time.sleep(0.01)
        _flip_a_label_in_place(path)
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == \
        (before.st_size, before.st_mtime_ns, before.st_ino)
    with pytest.raises(DataError, match="SHA-256"):
        data.ensure_fashion_mnist(root, download=False)


@pytest.mark.parametrize("stamp", ["[]", "null", "1", '"text"', '{"train-labels-idx1-ubyte": 5}'])
def test_a_stamp_that_is_not_an_object_of_keys_is_no_stamp(root, monkeypatch, stamp):
    monkeypatch.setenv("D2LNOTES_SYSTEM_DATA", "")
    raw = root / "FashionMNIST" / "raw"
    (raw / data.VERIFIED_STAMP).write_text(stamp)
    assert data.ensure_fashion_mnist(root, download=False) == raw
    written = json.loads((raw / data.VERIFIED_STAMP).read_text())
    assert set(written) == set(data.FASHION_MNIST_FILES)  # rewritten from the hashes


# --- repairs --------------------------------------------------------------------------------

def test_a_missing_file_and_a_corrupt_one_are_repaired_in_one_pass(root, monkeypatch,
                                                                    system_copy, capsys):
    # One file missing hid the other's bad content until after the system-copy pass; then
    # the corrupt file was deleted for torchvision, and the run asked for the package it had.
    monkeypatch.setenv("D2LNOTES_SYSTEM_DATA", str(system_copy))
    raw = root / "FashionMNIST" / "raw"
    (raw / TEST_LABELS).unlink()
    _flip_a_label_in_place(raw / LABELS)  # the same size: only the SHA-256 can tell
    assert data.ensure_fashion_mnist(root, download=False) == raw
    assert _sound(raw, TEST_LABELS) and _sound(raw, LABELS)
    err = capsys.readouterr().err
    assert f"{raw / LABELS} was corrupt" in err and "SHA-256" in err


def test_a_download_never_deletes_what_another_process_repaired(root, monkeypatch, tmp_path):
    # Between this run's check and its download, another run puts a good copy in place.
    monkeypatch.setenv("D2LNOTES_SYSTEM_DATA", "")
    raw = root / "FashionMNIST" / "raw"
    good = tmp_path / "good"
    shutil.copy(raw / LABELS, good)
    _flip_a_label_in_place(raw / LABELS)
    real_digest = data.file_digest

    def digest_then_the_other_run_repairs(path):
        found = real_digest(path)
        if Path(path).name == LABELS and not (tmp_path / "repaired").exists():
            (tmp_path / "repaired").touch()
            os.replace(shutil.copy(good, raw / ".other-run.part"), raw / LABELS)
        return found

    def offline_download(folder):
        raise DataError("download failed: no network")

    monkeypatch.setattr(data, "file_digest", digest_then_the_other_run_repairs)
    monkeypatch.setattr(data, "download_fashion_mnist", offline_download, raising=False)
    assert data.ensure_fashion_mnist(root, download=True) == raw
    assert _sound(raw, LABELS)


def test_a_download_goes_through_a_private_folder_and_only_sound_files_land(root, monkeypatch):
    monkeypatch.setenv("D2LNOTES_SYSTEM_DATA", "")
    raw = root / "FashionMNIST" / "raw"
    good = {name: (raw / name).read_bytes() for name in (LABELS, TEST_LABELS)}
    (raw / LABELS).unlink()
    (raw / TEST_LABELS).unlink()
    folders = []

    def download(folder):  # a torchvision that brings one good file and one short one
        folders.append(folder)
        got = Path(folder) / "FashionMNIST" / "raw"
        got.mkdir(parents=True)
        (got / LABELS).write_bytes(good[LABELS])
        (got / TEST_LABELS).write_bytes(good[TEST_LABELS][:100])

    monkeypatch.setattr(data, "download_fashion_mnist", download)
    with pytest.raises(DataError) as e:
        data.ensure_fashion_mnist(root, download=True)
    assert str(raw / TEST_LABELS) in str(e.value)
    assert _sound(raw, LABELS) and not (raw / TEST_LABELS).exists()
    assert folders and not Path(folders[0]).exists()  # the private folder is gone
    assert sorted(p.name for p in raw.parent.iterdir()) == ["raw"]


# --- where the data folder is ---------------------------------------------------------------

def _broken(tmp_path, kind):
    link = tmp_path / kind
    link.symlink_to(link if kind == "loop" else tmp_path / "gone")
    return link


@pytest.mark.parametrize("kind", ["loop", "dangling"])
@pytest.mark.parametrize("how", ["--data-dir", "D2LNOTES_DATA", "XDG_CACHE_HOME"])
def test_a_data_folder_behind_a_broken_symlink_is_one_line(tmp_path, monkeypatch, capsys,
                                                            kind, how):
    link = _broken(tmp_path, kind)
    monkeypatch.chdir(tmp_path)  # no ./data here
    monkeypatch.delenv("D2LNOTES_DATA", raising=False)
    argv = ["--epochs", "1", "--no-plots", "--quiet"]
    if how == "--data-dir":
        argv += ["--data-dir", str(link)]
    else:
        monkeypatch.setenv(how, str(link))
    assert cli.run(ch3_main, argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert str(link) in err and ("loop" if kind == "loop" else "missing") in err


@pytest.mark.parametrize("kind", ["loop", "dangling"])
def test_the_api_on_a_broken_symlink_is_a_data_error(tmp_path, kind):
    link = _broken(tmp_path, kind)
    with pytest.raises(DataError, match="symlink"):
        data.ensure_fashion_mnist(link, download=False)
    with pytest.raises(DataError, match="symlink"):
        data.ensure_fashion_mnist(link / "deeper", download=False)


def test_a_tilde_is_expanded_once_wherever_the_folder_comes_from(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("D2LNOTES_DATA", "~/d2ldata")  # quoted in the shell: no expansion there
    assert data.data_root() == tmp_path / "home" / "d2ldata"
    assert data.data_root(Path("~/arg")) == tmp_path / "home" / "arg"
    assert data.data_root("~") == tmp_path / "home"
    monkeypatch.delenv("D2LNOTES_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", "~/cache")
    assert data.data_root() == tmp_path / "home" / "cache" / "d2lnotes"
    assert not (tmp_path / "~").exists()


# --- the package's own files are replaced, never written through ----------------------------

def test_a_symlinked_stamp_is_replaced_and_its_target_kept(root, monkeypatch, tmp_path):
    monkeypatch.setenv("D2LNOTES_SYSTEM_DATA", "")
    outside = tmp_path / "outside.json"
    outside.write_text("precious")
    stamp = root / "FashionMNIST" / "raw" / data.VERIFIED_STAMP
    stamp.symlink_to(outside)
    data.ensure_fashion_mnist(root, download=False)
    assert outside.read_text() == "precious"
    assert not stamp.is_symlink() and set(json.loads(stamp.read_text())) == \
        set(data.FASHION_MNIST_FILES)


def test_a_symlinked_corrupt_file_is_replaced_and_its_target_kept(root, monkeypatch, tmp_path,
                                                                  system_copy):
    monkeypatch.setenv("D2LNOTES_SYSTEM_DATA", str(system_copy))
    path = root / "FashionMNIST" / "raw" / LABELS
    outside = tmp_path / "outside"
    outside.write_bytes(path.read_bytes()[:100])  # truncated
    path.unlink()
    path.symlink_to(outside)
    data.ensure_fashion_mnist(root, download=False)
    assert len(outside.read_bytes()) == 100
    assert not path.is_symlink() and _sound(path.parent, LABELS)


def test_a_sound_symlinked_file_is_read_where_it_points(root, monkeypatch, tmp_path):
    # A user may keep the data elsewhere and link it in: reading through a link is fine.
    monkeypatch.setenv("D2LNOTES_SYSTEM_DATA", "")
    path = root / "FashionMNIST" / "raw" / LABELS
    outside = tmp_path / "outside"
    shutil.move(path, outside)
    path.symlink_to(outside)
    data.ensure_fashion_mnist(root, download=False)
    assert path.is_symlink() and _sound(path.parent, LABELS)


# --- the first-import message ---------------------------------------------------------------

def test_the_first_import_message_counts_only_the_dataset(tmp_path, monkeypatch, capsys,
                                                          system_copy):
    monkeypatch.setenv("D2LNOTES_SYSTEM_DATA", str(system_copy))
    raw = tmp_path / "FashionMNIST" / "raw"
    real_import = data._import_gz

    def import_beside_another_run(src, dest, spec):
        other = dest.parent / f".{dest.name}.99999.part"  # another run, half-way
        if not other.exists():
            other.write_bytes(b"\0" * 5_000_000)
        return real_import(src, dest, spec)

    monkeypatch.setattr(data, "_import_gz", import_beside_another_run)
    capsys.readouterr()
    data.ensure_fashion_mnist(tmp_path, download=False)
    size = sum((raw / n).stat().st_size for n in data.FASHION_MNIST_FILES)
    assert f"({size / 1e6:.1f} MB)" in capsys.readouterr().err
