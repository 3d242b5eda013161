"""One data folder: --data-dir > $D2LNOTES_DATA > ./data (if it exists) > the user's cache,
and one line on stderr when a dataset is first imported there."""

import gzip
import shutil
from pathlib import Path

import pytest

from d2lnotes.utils import data
from d2lnotes.utils.data import FASHION_MNIST_FILES, data_root

ROOT = Path(__file__).resolve().parent.parent
SYSTEM_COPY = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """A folder with no ``data/``, like a notebook's, and a private cache."""
    monkeypatch.delenv("D2LNOTES_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "nb").mkdir()
    monkeypatch.chdir(tmp_path / "nb")
    return tmp_path


def test_the_order(elsewhere, monkeypatch):
    cache = elsewhere / "cache" / "d2lnotes"
    assert data_root() == cache
    (elsewhere / "nb" / "data").mkdir()
    assert data_root() == Path("data")  # ./data only once it exists
    monkeypatch.setenv("D2LNOTES_DATA", str(elsewhere / "env"))
    assert data_root() == elsewhere / "env"
    assert data_root(elsewhere / "arg") == elsewhere / "arg"


@pytest.mark.parametrize("xdg", [None, "", "relative/cache"])
def test_without_an_absolute_xdg_cache_home_the_cache_is_in_home(elsewhere, monkeypatch, xdg):
    monkeypatch.setenv("HOME", str(elsewhere / "home"))
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME")
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)  # the XDG spec ignores a relative path
    assert data_root() == elsewhere / "home" / ".cache" / "d2lnotes"


def test_a_checkout_keeps_its_data_folder(monkeypatch):
    # The repository's data/ (README, and what CI seeds) is what a checkout uses.
    monkeypatch.delenv("D2LNOTES_DATA", raising=False)
    monkeypatch.chdir(ROOT)
    assert (ROOT / "data").is_dir() and data_root() == Path("data")


def _system_copy(tmp_path, raw):
    """Debian's .gz files if installed, else gzip the session's IDX files (slower)."""
    if all((SYSTEM_COPY / f"{n}.gz").is_file() for n in FASHION_MNIST_FILES):
        return SYSTEM_COPY
    copy = tmp_path / "system"
    copy.mkdir()
    for name in FASHION_MNIST_FILES:
        with open(raw / name, "rb") as fin, gzip.open(copy / f"{name}.gz", "wb", 1) as fout:
            shutil.copyfileobj(fin, fout)
    return copy


@pytest.mark.slow
def test_first_import_goes_to_the_cache_and_says_so_once(elsewhere, monkeypatch, capsys,
                                                         fashion_mnist_raw):
    system = _system_copy(elsewhere, Path(ROOT, fashion_mnist_raw))
    monkeypatch.delenv("D2LNOTES_SYSTEM_DATA", raising=False)
    monkeypatch.setattr(data, "SYSTEM_DIRS", [system])
    capsys.readouterr()
    raw = data.ensure_fashion_mnist()
    assert raw == elsewhere / "cache" / "d2lnotes" / "FashionMNIST" / "raw"
    assert list((elsewhere / "nb").iterdir()) == []  # no stray ./data
    said = capsys.readouterr().err
    assert said.count("\n") == 1
    assert "Fashion-MNIST" in said and str(system) in said and str(raw) in said
    size = sum(f.stat().st_size for f in raw.iterdir() if f.is_file())
    assert f"{size / 1e6:.1f} MB" in said
    assert data.ensure_fashion_mnist() == raw
    assert capsys.readouterr().err == ""  # already there: nothing to say
