"""The book layer's data hub: where a download looks first, the mirror, the verified fetch
and the safe extract, shared by both editions' ``download`` and by ``ch4 kaggle``.

No test reaches the network: a download goes to a server on 127.0.0.1 that a test starts,
or to ``$D2LNOTES_DATA_URL`` pointing at a closed local port.
"""

import contextlib
import hashlib
import io
import os
import shutil
import socket
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest

from d2lnotes.utils.errors import DataError

TRAIN, TEST = "kaggle_house_pred_train.csv", "kaggle_house_pred_test.csv"


# The 1.0 edition's §5.7 opening, in book style: imports; the notebook's own stand-ins for
# download and extract (the book shows their signatures); a DataModule that reads both CSVs
# through d2l.download into self.root; and the cell that builds it.
KAGGLE_1_0_CELLS = '''
# %%
from d2l import torch as d2l
import pandas as pd
import torch

# %%
def download(url, folder, sha1_hash=None):
    """Fetch url into folder, return the file's path (shown in the book, run by d2l)."""

def extract(filename, folder):
    """Unpack a zip or tar file into folder (shown in the book, run by d2l)."""

# %%
class HousePrices(d2l.DataModule):
    def __init__(self, batch_size, train=None, val=None):
        super().__init__()
        self.save_hyperparameters()
        if self.train is None:
            self.raw_train = pd.read_csv(d2l.download(
                d2l.DATA_URL + 'kaggle_house_pred_train.csv', self.root,
                sha1_hash='585e9cc93e70b39160e7921475f9bcd7d31219ce'))
            self.raw_val = pd.read_csv(d2l.download(
                d2l.DATA_URL + 'kaggle_house_pred_test.csv', self.root,
                sha1_hash='fa19780a7b011d9b009e8bff8e99922a8ee2eb90'))

# %%
data = HousePrices(batch_size=64)
print("shapes", data.raw_train.shape, data.raw_val.shape)
'''


def test_the_1_0_kaggle_cells_find_the_csvs_in_the_books_data_folder_offline(
        tmp_path, kaggle_house, monkeypatch, capsys):
    from d2lnotes.book import redirect

    # The book's layout: chapter folders beside ../data, where an earlier run left the CSVs.
    book = tmp_path / "d2l-en"
    (book / "chapter_multilayer-perceptrons").mkdir(parents=True)
    (book / "data").mkdir()
    for name in (TRAIN, TEST):
        shutil.copyfile(kaggle_house / name, book / "data" / name)
    monkeypatch.setenv("D2LNOTES_DATA", str(tmp_path / "d2lnotes-data"))  # holds nothing
    monkeypatch.setenv("D2LNOTES_DATA_URL", "http://127.0.0.1:9/")  # no network
    monkeypatch.chdir(book / "chapter_multilayer-perceptrons")  # where the notebook runs
    namespace = {}
    with redirect():
        for cell in KAGGLE_1_0_CELLS.split("# %%"):
            exec(cell, namespace)
    out, err = capsys.readouterr()
    assert "shapes (1460, 81) (1459, 80)" in out
    # one line per file, naming the book's folder it came from; nothing downloaded
    for name in (TRAIN, TEST):
        lines = [line for line in err.splitlines() if name in line]
        assert len(lines) == 1 and str(book / "data" / name) in lines[0], err
    assert "127.0.0.1" not in err


# --- servers that misbehave ----------------------------------------------------------------

BODY = bytes(range(256)) * 4  # 1,024 bytes
BODY_SHA1 = hashlib.sha1(BODY).hexdigest()


def _headers(length):
    return (f"HTTP/1.1 200 OK\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
            .encode())


def whole(conn, stop):
    conn.sendall(_headers(len(BODY)) + BODY)


def short(conn, stop):
    """Announce all of BODY, send half of it, hang up."""
    conn.sendall(_headers(len(BODY)) + BODY[:512])


def trickle(conn, stop):
    """Announce BODY, then send one byte every 0.2 s (each read is quick, the whole never ends)."""
    conn.sendall(_headers(len(BODY)))
    for byte in BODY:
        if stop.wait(0.2):
            return
        conn.sendall(bytes([byte]))


def stall(conn, stop):
    """Accept the request and never answer."""
    stop.wait()


@contextlib.contextmanager
def serve(respond):
    """An HTTP server on 127.0.0.1 answering every request with ``respond(conn, stop)``;
    yields its base URL."""
    sock = socket.create_server(("127.0.0.1", 0))
    sock.settimeout(0.1)
    stop = threading.Event()

    def handle(conn):
        with conn:
            with contextlib.suppress(OSError):
                conn.recv(65536)  # the request line and headers; any GET gets the same answer
                respond(conn, stop)

    def accept():
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        stop.set()
        thread.join()
        sock.close()


# The three fetches of the package: the 1.0 book API (a URL, no hash), the classic one (a
# DATA_HUB name) and ch4 kaggle (a hub file, from $D2LNOTES_DATA_URL). Each takes the server's
# base URL and the folder to download into.

def fetch_1_0(base, folder):
    from d2lnotes import d2l

    return d2l.download(base + "body.bin", str(folder))


def fetch_classic(base, folder):
    from d2lnotes import d2l

    d2l.DATA_HUB["body"] = (base + "body.bin", BODY_SHA1)
    try:
        return d2l.download("body", cache_dir=folder)
    finally:
        del d2l.DATA_HUB["body"]


def fetch_kaggle(base, folder):
    from d2lnotes.ch4 import kaggle

    os.environ["D2LNOTES_DATA_URL"] = base  # the fixture `offline` restores it
    return kaggle.download(TRAIN, folder)


FETCHES = {"1.0": fetch_1_0, "classic": fetch_classic, "kaggle": fetch_kaggle}


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No copy anywhere: d2lnotes' data folder and the book's ``../data`` empty, the mirror a
    closed port; returns the folder to download into."""
    monkeypatch.setenv("D2LNOTES_DATA", str(tmp_path / "d2lnotes-data"))
    monkeypatch.setenv("D2LNOTES_DATA_URL", "http://127.0.0.1:9/")
    (tmp_path / "notebook").mkdir()
    monkeypatch.chdir(tmp_path / "notebook")  # so the book's ../data is tmp_path / "data"
    return tmp_path / "into"


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*") if p.is_file())


@pytest.mark.parametrize("fetch", FETCHES)
def test_a_body_shorter_than_its_content_length_is_refused_by_every_fetch(fetch, offline):
    with serve(short) as base, pytest.raises(DataError) as e:
        FETCHES[fetch](base, offline)
    message = str(e.value)
    assert "512 of 1024 bytes" in message and base in message and "\n" not in message
    assert files_under(offline.parent) == []  # nothing kept, no .part


@pytest.mark.parametrize("respond", [trickle, stall], ids=["trickle", "stall"])
@pytest.mark.parametrize("fetch", FETCHES)
def test_a_trickling_or_stalled_download_gives_up_at_the_deadline(fetch, respond, offline,
                                                                  monkeypatch):
    monkeypatch.setenv("D2LNOTES_DOWNLOAD_TIMEOUT", "0.2")
    raised = []

    def attempt():
        try:
            FETCHES[fetch](base, offline)
        except Exception as e:  # noqa: BLE001 - the test looks at whatever came out
            raised.append(e)

    with serve(respond) as base:
        worker = threading.Thread(target=attempt, daemon=True)
        worker.start()
        worker.join(30)  # 150 times the deadline: it must be over long before
        assert not worker.is_alive(), "the download is still running"
    assert len(raised) == 1 and isinstance(raised[0], DataError), raised
    message = str(raised[0])
    assert base in message and "D2LNOTES_DOWNLOAD_TIMEOUT" in message and "\n" not in message
    if fetch == "kaggle":  # a file of the book's hub, read from the mirror: the setting is named
        assert "D2LNOTES_DATA_URL" in message
    assert files_under(offline.parent) == []  # nothing kept, no .part


# --- the mirror setting ($D2LNOTES_DATA_URL) -------------------------------------------------


@pytest.fixture
def mirror(hub_mirror, tmp_path, monkeypatch):
    """The mirror of conftest's ``hub_mirror``, with no copy in d2lnotes' data folder or in
    the book's ``../data``."""
    monkeypatch.setenv("D2LNOTES_DATA", str(tmp_path / "d2lnotes-data"))
    (tmp_path / "notebook").mkdir()
    monkeypatch.chdir(tmp_path / "notebook")
    return hub_mirror


def test_d2l_download_of_a_book_url_fetches_from_the_mirror(mirror, tmp_path, monkeypatch):
    from d2lnotes import d2l

    folder, requested = mirror
    (folder / "house.csv").write_bytes(BODY)
    # 1.0: the book's URL is read from the mirror
    path = d2l.download(d2l.DATA_URL + "house.csv", str(tmp_path / "a"), sha1_hash=BODY_SHA1)
    assert Path(path).read_bytes() == BODY and requested == ["/house.csv"]
    # classic: a DATA_HUB entry with the book's URL, likewise
    monkeypatch.setitem(d2l.DATA_HUB, "house", (d2l.DATA_URL + "house.csv", BODY_SHA1))
    path = d2l.download("house", cache_dir=tmp_path / "b")
    assert Path(path).read_bytes() == BODY and requested == ["/house.csv"] * 2


@pytest.mark.parametrize("fetch", ["1.0", "classic"])
def test_a_failed_book_download_names_the_mirror_setting(fetch, mirror, tmp_path, monkeypatch):
    from d2lnotes import d2l

    monkeypatch.setitem(d2l.DATA_HUB, "gone", (d2l.DATA_URL + "gone.csv", BODY_SHA1))
    with pytest.raises(DataError) as e:
        if fetch == "1.0":
            d2l.download(d2l.DATA_URL + "gone.csv", str(tmp_path / "a"), sha1_hash=BODY_SHA1)
        else:
            d2l.download("gone")
    message = str(e.value)
    assert os.environ["D2LNOTES_DATA_URL"] + "gone.csv" in message
    assert "D2LNOTES_DATA_URL" in message and "404" in message and "\n" not in message


@pytest.mark.parametrize("setting", ["not a url", "ftp://mirror.example/d2l/",
                                     "http://[::1/", "http://mirror.example:99999/", "http://"])
@pytest.mark.parametrize("fetch", FETCHES)
def test_garbage_in_the_mirror_setting_is_a_one_line_error(fetch, setting, offline):
    from d2lnotes import d2l

    def call():
        if fetch == "kaggle":  # ch4 kaggle reads the setting itself
            return FETCHES[fetch](setting, offline)
        os.environ["D2LNOTES_DATA_URL"] = setting  # the fixture `offline` restores it
        if fetch == "1.0":
            return d2l.download(d2l.DATA_URL + "body.bin", str(offline))
        return d2l.download("kaggle_house_train", cache_dir=offline)

    with pytest.raises(DataError) as e:
        call()
    message = str(e.value)
    assert f"D2LNOTES_DATA_URL={setting!r}" in message and "\n" not in message
    assert files_under(offline.parent) == []


def test_a_url_that_is_not_http_says_so(offline):
    from d2lnotes import d2l

    for url in ("ftp://example.com/data/x.csv", "file:///etc/passwd"):
        with pytest.raises(DataError, match="only http:// and https://"):
            d2l.download(url, str(offline))
        with pytest.raises(DataError, match="only http:// and https://"):
            d2l.download(url)


# --- extracting archives ---------------------------------------------------------------------


def member(name, type=tarfile.REGTYPE, data=b"", **fields):
    """A tar member and its bytes; ``fields`` set TarInfo attributes (linkname, mode, ...)."""
    info = tarfile.TarInfo(name)
    info.type, info.size, info.mode = type, len(data), 0o644
    for field, value in fields.items():
        setattr(info, field, value)
    return info, data


def write_tar(path, members, mode="w"):
    with tarfile.open(path, mode, **({"compresslevel": 1} if mode == "w:gz" else {})) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return path


# Both editions' extract over an archive in d2lnotes' data folder: the classic one through a
# DATA_HUB entry (download_extract), the 1.0 one by path into the archive's folder.

def extract_classic(archive):
    from d2lnotes import d2l

    d2l.DATA_HUB[archive.name] = (d2l.DATA_URL + archive.name,
                                  hashlib.sha1(archive.read_bytes()).hexdigest())
    try:
        return d2l.download_extract(archive.name)
    finally:
        del d2l.DATA_HUB[archive.name]


def extract_1_0(archive):
    from d2lnotes import d2l

    return d2l.extract(str(archive), str(archive.parent))


EXTRACTS = {"classic": extract_classic, "1.0": extract_1_0}


@pytest.fixture
def data_folder(offline, tmp_path):
    """d2lnotes' data folder, with ``victim.txt`` just outside it."""
    folder = Path(os.environ["D2LNOTES_DATA"])
    folder.mkdir()
    (tmp_path / "victim.txt").write_text("keep me")
    return folder


HOSTILE = {
    # tar resolves a hard link from the archive's root: this one points outside, and the
    # regular file of the same name that follows would be written through it
    "hard link out": ("x/h", [member("x/h", tarfile.LNKTYPE, linkname="../victim.txt"),
                              member("x/h", data=b"overwritten")]),
    "symlink out": ("x/s", [member("x/s", tarfile.SYMTYPE, linkname="../../victim.txt")]),
    "absolute": ("/tmp/d2lnotes-absolute.txt", [member("/tmp/d2lnotes-absolute.txt")]),
    "dot dot": ("../victim.txt", [member("../victim.txt", data=b"overwritten")]),
    "fifo": ("pipe", [member("pipe", tarfile.FIFOTYPE)]),
    "char device": ("null", [member("null", tarfile.CHRTYPE, devmajor=1, devminor=3)]),
    "block device": ("disk", [member("disk", tarfile.BLKTYPE, devmajor=7, devminor=0)]),
    "setuid": ("tool", [member("tool", data=b"#!/bin/sh\n", mode=0o4755)]),
    "setgid": ("tool", [member("tool", data=b"#!/bin/sh\n", mode=0o2755)]),
}


@pytest.mark.parametrize("case", HOSTILE)
@pytest.mark.parametrize("edition", EXTRACTS)
def test_a_hostile_tar_member_is_refused_by_name_before_anything_is_written(
        edition, case, data_folder, tmp_path):
    name, members = HOSTILE[case]
    archive = write_tar(data_folder / "evil.tar", members)
    with pytest.raises(DataError) as e:
        EXTRACTS[edition](archive)
    message = str(e.value)
    assert repr(name) in message and str(archive) in message and "\n" not in message
    assert (tmp_path / "victim.txt").read_text() == "keep me"
    assert files_under(data_folder) == ["evil.tar"]
    assert not Path("/tmp/d2lnotes-absolute.txt").exists()


@pytest.mark.parametrize("edition", EXTRACTS)
def test_links_inside_the_folder_are_extracted(edition, data_folder):
    archive = write_tar(data_folder / "good.tar", [
        member("d/a.txt", data=b"hi"),
        member("d/link", tarfile.SYMTYPE, linkname="a.txt"),  # from d/, as a symlink reads
        member("d/hard", tarfile.LNKTYPE, linkname="d/a.txt"),  # from the root, as tar does
        member("d/run.sh", data=b"#!/bin/sh\n", mode=0o755),
    ])
    EXTRACTS[edition](archive)
    assert [(data_folder / "d" / f).read_bytes() for f in ("a.txt", "link", "hard")] == [b"hi"] * 3
    assert (data_folder / "d" / "link").is_symlink()
    assert os.access(data_folder / "d" / "run.sh", os.X_OK)


@pytest.mark.parametrize("kind", ["tar", "zip"])
@pytest.mark.parametrize("edition", EXTRACTS)
def test_a_link_already_in_the_folder_does_not_carry_a_member_out(edition, kind, data_folder,
                                                                   tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (data_folder / "x").symlink_to(tmp_path / "elsewhere")
    if kind == "tar":
        archive = write_tar(data_folder / "a.tar", [member("x/planted.txt", data=b"hi")])
    else:
        archive = data_folder / "a.zip"
        with zipfile.ZipFile(archive, "w") as z:
            z.writestr("x/planted.txt", "hi")
    with pytest.raises(DataError, match="'x/planted.txt': it would be written outside"):
        EXTRACTS[edition](archive)
    assert list((tmp_path / "elsewhere").iterdir()) == []


BOMB_SIZE = 32 << 20  # 32 MiB of zeros, which compress to about 0.15 MiB


@pytest.fixture(scope="module")
def bombs(tmp_path_factory):
    """A tar.gz and a zip of BOMB_SIZE zeros, made once."""
    folder = tmp_path_factory.mktemp("bombs")
    write_tar(folder / "bomb.tar.gz", [member("zeros", data=bytes(BOMB_SIZE))], mode="w:gz")
    with zipfile.ZipFile(folder / "bomb.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("zeros", bytes(BOMB_SIZE))
    return folder


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
@pytest.mark.parametrize("edition", EXTRACTS)
def test_an_archive_that_expands_far_beyond_its_size_is_refused(edition, kind, bombs,
                                                                 data_folder):
    archive = Path(shutil.copy(bombs / f"bomb.{kind}", data_folder))
    assert archive.stat().st_size < BOMB_SIZE / 100
    with pytest.raises(DataError, match="would expand to 32.0 MiB") as e:
        EXTRACTS[edition](archive)
    assert str(archive) in str(e.value)
    assert files_under(data_folder) == [archive.name]


@pytest.mark.parametrize("setting", ["soon", "0", "-5", "nan", "inf"])
def test_garbage_in_the_deadline_setting_is_a_one_line_error(setting, offline, monkeypatch):
    monkeypatch.setenv("D2LNOTES_DOWNLOAD_TIMEOUT", setting)
    with serve(whole) as base, pytest.raises(DataError) as e:
        fetch_1_0(base, offline)
    message = str(e.value)
    assert f"D2LNOTES_DOWNLOAD_TIMEOUT={setting!r}" in message and "\n" not in message
    assert files_under(offline.parent) == []


def test_a_whole_body_is_kept_and_said_in_one_line(offline, monkeypatch, capsys):
    monkeypatch.setenv("D2LNOTES_DOWNLOAD_TIMEOUT", "5.5")
    with serve(whole) as base:
        path = Path(fetch_1_0(base, offline))
    assert path == offline / "body.bin" and path.read_bytes() == BODY
    assert files_under(offline.parent) == ["into/body.bin"]
    said = capsys.readouterr().err.splitlines()
    assert len(said) == 1 and base + "body.bin" in said[0] and str(path) in said[0]
