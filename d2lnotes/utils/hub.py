"""The book's data hub (§4.10): its address and files, one verified fetch, one safe extract.

Both editions' ``download`` and ``extract`` (``d2lnotes.book``) and ``ch4 kaggle`` go through
here, so they keep the same promises:

- a URL under the book's hub is read from ``$D2LNOTES_DATA_URL`` when it is set (a mirror);
- a fetched file appears under its name only whole: every byte its ``Content-Length``
  announced, and the right SHA-1 when one is given; until then it is a ``.part`` file;
- a download ends within ``$D2LNOTES_DOWNLOAD_TIMEOUT`` seconds (default 60), however slowly
  the server sends;
- an archive is checked member by member before anything is written: nothing lands outside
  its folder, no device, FIFO or setuid file, and no more than :data:`EXPAND_RATIO` times
  its own size;
- every failure is one :class:`DataError`, one line, saying what to do.
"""

import os
import shutil
import stat
import sys
import tarfile
import threading
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from .errors import DataError
from .io import atomic_path, file_digest

DATA_URL = "http://d2l-data.s3-accelerate.amazonaws.com/"
# name -> (url, SHA-1): the book's hub entries for chapters 2-4 (§4.10). The classic
# edition's ``d2l.DATA_HUB`` is this dict, so the book's cells may add entries to it.
DATA_HUB = {
    "kaggle_house_train": (DATA_URL + "kaggle_house_pred_train.csv",
                           "585e9cc93e70b39160e7921475f9bcd7d31219ce"),
    "kaggle_house_test": (DATA_URL + "kaggle_house_pred_test.csv",
                          "fa19780a7b011d9b009e8bff8e99922a8ee2eb90"),
}
MIRROR = "D2LNOTES_DATA_URL"
DEADLINE = "D2LNOTES_DOWNLOAD_TIMEOUT"
DEFAULT_DEADLINE = 60.0
# An archive may expand to EXPAND_RATIO times its own size, plus EXPAND_SLACK bytes.
EXPAND_RATIO = 50
EXPAND_SLACK = 16 << 20


def book_data():
    """The book's own data folder: ``../data`` from where its code runs (``DataModule.root``)."""
    return Path("..") / "data"


def sha1_of(path):
    """The SHA-1 hex digest of a file, as the book's data hub lists it."""
    return file_digest(path, "sha1")


def verified_copy(fname, folders, sha1_hash):
    """The first ``folder / fname`` that exists and has the SHA-1 ``sha1_hash``, else None."""
    for folder in folders:
        path = Path(folder) / fname
        if path.is_file() and sha1_of(path) == sha1_hash:
            return path
    return None


# --- where to download from -------------------------------------------------------------------


def data_url():
    """The hub to download from: ``$D2LNOTES_DATA_URL`` (a mirror), else the book's."""
    setting = os.environ.get(MIRROR)
    if not setting:
        return DATA_URL
    try:
        parts = urllib.parse.urlsplit(setting)
        usable = parts.scheme in ("http", "https") and parts.hostname and parts.port != 0
    except ValueError:  # an unclosed "[", a port out of range, ...
        usable = False
    if not usable:
        raise DataError(f"{MIRROR}={setting!r} is not an http:// or https:// address; set it "
                        "to a mirror of the book's data hub, or unset it to use the hub")
    return setting if setting.endswith("/") else setting + "/"


def source_of(url):
    """Where ``url`` is read from: a file of the book's hub comes from the mirror, if one is set."""
    return data_url() + url[len(DATA_URL):] if url.startswith(DATA_URL) else url


def _deadline():
    setting = os.environ.get(DEADLINE)
    if not setting:
        return DEFAULT_DEADLINE
    try:
        seconds = float(setting)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < 1e9:
        raise DataError(f"{DEADLINE}={setting!r} is not a number of seconds; set it to the "
                        f"longest a download may take (default {DEFAULT_DEADLINE:g})")
    return seconds


# --- the verified fetch -----------------------------------------------------------------------


def _copy_body(url, dest, seconds, state):
    """In a worker thread: copy ``url``'s body into ``dest``; record (received, announced)."""
    try:
        # a socket read may wait a little longer than the whole: the caller's deadline speaks
        with urllib.request.urlopen(url, timeout=seconds + 1) as response:
            announced = response.headers.get("Content-Length", "")
            with state["lock"]:
                if state["stop"]:
                    return
                f = open(dest, "wb")
            received = 0
            with f:
                # read1 returns what one read brings, so the deadline is looked at often
                while not state["stop"] and (block := response.read1(1 << 16)):
                    f.write(block)
                    received += len(block)
        state["result"] = received, int(announced) if announced.isdigit() else None
    except Exception as e:  # handed to the caller's thread
        state["error"] = e


def _transfer(url, dest, seconds):
    """Copy ``url`` into ``dest`` in at most ``seconds``; return the reason it failed, or None."""
    state = {"lock": threading.Lock(), "stop": False}
    worker = threading.Thread(target=_copy_body, args=(url, dest, seconds, state), daemon=True)
    worker.start()
    try:
        worker.join(seconds)
    finally:
        with state["lock"]:  # a worker that has not opened dest yet never will
            state["stop"] = True
    if worker.is_alive():
        return f"it did not finish within {seconds:g} s; {DEADLINE} sets that limit"
    error = state.get("error")
    if isinstance(error, urllib.error.HTTPError):
        return str(error)
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    if isinstance(error, OSError):
        return error.strerror or str(error) or type(error).__name__
    if error is not None:  # http.client's own errors, e.g. a malformed status line
        return f"{type(error).__name__}: {error}"
    received, announced = state["result"]
    if announced is not None and received != announced:
        return f"the body ended after {received} of {announced} bytes"
    return None


def fetch(url, path, sha1_hash=None, advice=None):
    """Download ``url`` to ``path`` whole, with the SHA-1 ``sha1_hash`` if given, or not at all.

    The body goes to a ``.part`` file beside ``path``, renamed only once it is complete and
    verified; one line on stderr then says what came from where. Any failure is one
    :class:`DataError` naming the URL (and the mirror setting, for a file of the book's hub)
    and ``advice``, what to do instead (default: where to put a copy).
    """
    path = Path(path)
    source = source_of(url)
    advice = advice or f"put a good copy at {path} and run again"
    where = f"the mirror in {MIRROR}, " if source != url else ""
    if url.startswith(DATA_URL) and source == url and MIRROR not in advice:
        advice += f", or set {MIRROR} to a mirror of the book's data hub"
    if urllib.parse.urlsplit(source).scheme not in ("http", "https"):
        raise DataError(f"cannot download {source}: only http:// and https:// URLs can be "
                        f"downloaded; fetch it yourself and put it at {path}")
    seconds = _deadline()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            reason = _transfer(source, tmp, seconds)
            actual = sha1_of(tmp) if reason is None and sha1_hash is not None else sha1_hash
            if actual != sha1_hash:
                reason = f"it arrived with SHA-1 {actual}, expected {sha1_hash}, and was discarded"
            if reason is not None:
                raise DataError(f"{path.name} could not be downloaded from {where}{source} "
                                f"({reason}); {advice}")
    except OSError as e:  # the folder, not the network: a full disk, a read-only folder
        raise DataError(f"cannot write {path} ({e.strerror or e}); {advice}") from None
    print(f"d2lnotes: {path.name} ({path.stat().st_size / 1e6:.1f} MB) from {source} to {path}",
          file=sys.stderr)
    return path


# --- the safe extract -------------------------------------------------------------------------


def _lexical(name):
    """The relative path ``name`` with ``.`` and ``..`` folded, no link followed; None if it
    climbs above its start."""
    parts = []
    for part in PurePosixPath(name).parts:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part not in (".", "/"):
            parts.append(part)
    return PurePosixPath(*parts) if parts else PurePosixPath(".")


def _check_tar_member(member, links):
    """Why ``member`` may not be extracted, or None. ``links``: the symlinks met so far."""
    where = None if member.name.startswith("/") else _lexical(member.name)
    if where is None:
        return "it would be written outside"
    if any(where == link or link in where.parents for link in links):
        return "it goes through a symbolic link of the archive"
    if member.ischr() or member.isblk() or member.isfifo():
        return "it is a device or FIFO, not a file"
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        return "it is not a file, folder or link"
    if not member.isdir() and member.mode & (stat.S_ISUID | stat.S_ISGID):
        return "it has the setuid or setgid bit"
    if member.issym() or member.islnk():
        # tar resolves a symlink from the member's folder, a hard link from the archive's root
        start = where.parent if member.issym() else PurePosixPath(".")
        target = None if member.linkname.startswith("/") else _lexical(
            str(start / member.linkname))
        if target is None:
            return f"it links to {member.linkname!r}, outside"
        if any(target == link or link in target.parents for link in links):
            return "its link goes through a symbolic link of the archive"
        if member.issym():
            links.add(where)
    return None


def _members(fp, folder):
    """``(name, expanded size, why refused or None)`` of every member of an open archive."""
    links = set()
    zipped = isinstance(fp, zipfile.ZipFile)
    for member in fp.infolist() if zipped else fp.getmembers():
        name = member.filename if zipped else member.name
        if zipped:
            outside = name.startswith("/") or _lexical(name) is None
            why, size = "it would be written outside" if outside else None, member.file_size
        else:
            why, size = _check_tar_member(member, links), member.size if member.isfile() else 0
        # a link already in the folder (say data/x -> /etc) must not carry a member out
        if why is None and not (folder / name).resolve().is_relative_to(folder.resolve()):
            why = "it would be written outside"
        yield name, size, why


def extract(archive, folder):
    """Unpack the zip or tar file ``archive`` into ``folder`` once every member is checked.

    Refused, before anything is written, with :class:`DataError`: a member outside
    ``folder`` (``..``, absolute, a link out, a path through a link), a device, FIFO or
    setuid file, or members that add up to more than ``EXPAND_RATIO`` times the archive.
    """
    archive, folder = Path(archive), Path(folder)
    name = archive.name.lower()
    if name.endswith(".zip"):
        opener = zipfile.ZipFile
    elif name.endswith((".tar", ".tar.gz", ".tgz", ".gz")):
        opener = tarfile.open
    else:
        raise DataError(f"cannot extract {archive}: only .zip, .tar, .tar.gz and .tgz files")
    try:
        with opener(archive) as fp:
            total = 0
            for member, size, why in _members(fp, folder):
                if why:
                    if why.endswith("outside"):
                        why += f" {folder}"
                    raise DataError(f"{archive}: refusing to extract {member!r}: {why}; "
                                    "nothing was extracted")
                total += size
            limit = EXPAND_RATIO * archive.stat().st_size + EXPAND_SLACK
            if total > limit:
                raise DataError(f"{archive} would expand to {total / 2**20:.1f} MiB, more than "
                                f"{EXPAND_RATIO} times its size; nothing was extracted "
                                "(unpack it by hand if you trust it)")
            folder.mkdir(parents=True, exist_ok=True)
            if isinstance(fp, zipfile.ZipFile):
                fp.extractall(folder)
            elif hasattr(tarfile, "data_filter"):  # Python 3.11.4+, 3.12
                fp.extractall(folder, filter="data")
            else:
                fp.extractall(folder)
    except (OSError, zipfile.BadZipFile, tarfile.TarError) as e:
        raise DataError(f"cannot extract {archive} ({e}); download it again") from None
    return folder


def atomic_copy(source, path):
    """Copy ``source`` to ``path`` atomically; return ``path``."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        shutil.copyfile(source, tmp)
    return Path(path)
