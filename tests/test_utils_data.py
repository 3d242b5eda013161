"""The Fashion-MNIST cache in utils/data.py against hostile folders: in-place edits, mixed
damage, a second process, bad stamps, broken symlinks and links inside the folder."""

import errno
import gzip
import json
import os
import shutil
import time
from pathlib import Path

import pytest
import torch

from d2lnotes.ch2.__main__ import main as ch2_main
from d2lnotes.ch3.__main__ import main as ch3_main
from d2lnotes.utils import cli, data, io
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


def _parts(folder):
    return [p for p in Path(folder).rglob("*") if p.name.endswith(".part")]


def _one_line(err):
    return err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err

# --- Fashion-MNIST content, repairs and the system copy ------------------------------------------


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

# --- unusable data folders -----------------------------------------------------------------------


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


# --- batching ------------------------------------------------------------------------------------


def test_synthetic_data_shapes_and_model():
    torch.manual_seed(0)
    X, y = data.synthetic_data(torch.tensor([2.0, -3.4]), 4.2, 1000)
    assert X.shape == (1000, 2) and y.shape == (1000, 1)
    residual = y - (X @ torch.tensor([[2.0], [-3.4]]) + 4.2)
    assert residual.std() == pytest.approx(0.01, rel=0.2)


def test_loader_visits_every_example_once_per_epoch():
    X = torch.arange(23.0).reshape(-1, 1)
    loader = data.load_array((X, torch.arange(23)), batch_size=5)
    assert len(loader) == 5
    for _ in range(2):
        seen = torch.cat([Xb.flatten() for Xb, _ in loader])
        assert sorted(seen.tolist()) == X.flatten().tolist()
        assert seen.tolist() != X.flatten().tolist()  # shuffled (23! orders, so not by luck)


def test_loader_order_follows_the_seed():
    loader = data.load_array((torch.arange(50),), batch_size=7)
    torch.manual_seed(1)
    first = [b[0].tolist() for b in loader]
    torch.manual_seed(1)
    assert [b[0].tolist() for b in loader] == first


def test_batch_larger_than_data_gives_one_batch():
    loader = data.load_array((torch.zeros(3, 2), torch.zeros(3)), batch_size=100)
    batches = list(loader)
    assert len(batches) == 1 and batches[0][0].shape == (3, 2)


@pytest.mark.parametrize("bad", [0, -1, 2.5, "8", True])
def test_loader_rejects_bad_batch_size(bad):
    with pytest.raises(ValueError, match="batch_size"):
        data.load_array((torch.zeros(3),), batch_size=bad)


def test_fashion_mnist_batches(fashion_mnist):
    train_iter, test_iter = fashion_mnist
    assert train_iter.num_examples == 60000 and test_iter.num_examples == 10000
    X, y = next(iter(train_iter))
    assert X.shape == (256, 1, 28, 28) and X.dtype == torch.float32
    assert y.dtype == torch.int64 and 0 <= X.min() and X.max() <= 1
    assert data.fashion_mnist_labels([0, 9]) == ["t-shirt", "ankle boot"]


def test_file_in_the_way_finds_the_file_that_blocks_a_folder(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert io.file_in_the_way(tmp_path) is None  # an existing folder
    assert io.file_in_the_way(tmp_path / "new" / "deeper") is None  # can be made
    assert io.file_in_the_way(afile) == afile
    assert io.file_in_the_way(afile / "sub" / "raw") == afile  # a file above it

# --- Fashion-MNIST files: import, corruption, missing --------------------------------------------


@pytest.fixture
def good_raw(tmp_path, fashion_mnist_raw):
    """A data root holding a verified copy of the four IDX files."""
    raw = fashion_mnist_raw
    dest = tmp_path / "FashionMNIST" / "raw"
    dest.mkdir(parents=True)
    for name in data.FASHION_MNIST_FILES:
        shutil.copy(raw / name, dest / name)
    return tmp_path


def test_missing_data_with_no_source_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "SYSTEM_DIRS", [])
    with pytest.raises(DataError) as e:
        data.ensure_fashion_mnist(tmp_path, download=False)
    msg = str(e.value)
    assert str(tmp_path / "FashionMNIST" / "raw") in msg
    assert "apt-get install dataset-fashion-mnist" in msg and "D2LNOTES_DATA" in msg


def _truncate(path):
    path.write_bytes(path.read_bytes()[:1000])


def _wrong_magic(path):
    raw = bytearray(path.read_bytes())
    raw[3] = 0x99
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("damage, expect", [(_truncate, "expected"), (_wrong_magic, "magic")])
def test_corrupt_file_is_caught_and_names_the_file(good_raw, monkeypatch, damage, expect):
    target = good_raw / "FashionMNIST" / "raw" / "t10k-images-idx3-ubyte"
    damage(target)
    monkeypatch.setattr(data, "SYSTEM_DIRS", [])
    with pytest.raises(DataError) as e:
        data.ensure_fashion_mnist(good_raw, download=False)
    assert "t10k-images-idx3-ubyte" in str(e.value) and expect in str(e.value)


@pytest.mark.skipif(not any(d.is_dir() for d in data.system_dirs()),
                    reason="needs Debian's dataset-fashion-mnist (installed by .ci/run)")
def test_corrupt_file_is_reimported_from_the_system_copy(good_raw):
    target = good_raw / "FashionMNIST" / "raw" / "train-labels-idx1-ubyte"
    _truncate(target)
    data.ensure_fashion_mnist(good_raw, download=False)
    assert data.check_idx(target, *data.FASHION_MNIST_FILES[target.name]) is None
    assert not list(target.parent.glob("*.part"))


def test_truncated_system_gz_is_named_and_never_installed(tmp_path, monkeypatch, good_raw):
    import gzip

    system = tmp_path / "system"
    system.mkdir()
    raw = good_raw / "FashionMNIST" / "raw"
    # Only the missing file is imported, so only its .gz is needed (10 kB, not 55 MB).
    name = "t10k-labels-idx1-ubyte"
    payload = gzip.compress((raw / name).read_bytes())
    (system / f"{name}.gz").write_bytes(payload[: len(payload) // 2])  # cut off halfway
    (raw / name).unlink()
    monkeypatch.setattr(data, "SYSTEM_DIRS", [system])
    with pytest.raises(DataError) as e:
        data.ensure_fashion_mnist(good_raw, download=False)
    assert "t10k-labels-idx1-ubyte.gz" in str(e.value)
    assert not (raw / "t10k-labels-idx1-ubyte").exists()
    assert not list(raw.glob("*.part")) and not list(raw.glob(".*.part"))


@pytest.mark.slow
def test_resize_gives_the_asked_size_and_keeps_the_range(fashion_mnist_raw):
    train_iter, test_iter = data.load_fashion_mnist(64, resize=32)
    X, y = next(iter(test_iter))
    assert X.shape == (64, 1, 32, 32) and y.shape == (64,)
    assert 0 <= X.min() and X.max() <= 1 + 1e-6
    assert train_iter.tensors[0].shape == (60000, 1, 32, 32)
