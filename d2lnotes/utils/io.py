"""Atomic file writes: write to a temporary file in the same folder, then rename.

A reader never sees half a file, and an interrupted write leaves only a ``.part`` file
that nothing loads. For a user's outputs (``--out``, ``--json``, PNGs) what is not a regular
file is never replaced: a symlink is followed (the file it points to is replaced, the link
stays), and a character device or FIFO (``/dev/null``, ``/dev/stdout``, a named pipe) is
written directly. The package's own files in the data folder (``follow_symlinks=False``) are
always replaced, so a link there never leads a write outside the folder.
"""

import contextlib
import errno
import hashlib
import json
import os
import stat
import sys
from pathlib import Path

from .errors import D2LError

# The longest file name most file systems allow (NAME_MAX), in bytes.
NAME_MAX = 255

# Failures that mean "this place cannot take the file" rather than a bug in the writer.
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES,
                 errno.EPERM, errno.ENOTDIR, errno.ENAMETOOLONG, errno.EISDIR, errno.EIO}


# Where ``--json -`` goes: the command line points this at the real standard output while
# it sends its other printing to stderr, so that the JSON can be piped.
json_stdout = None


class WriteError(D2LError):
    """An output could not be written: a full disk, a read-only folder, ... (exit status 1)."""


def writes_in_place(path):
    """True if ``path`` is something to write into, not replace: a device, a FIFO, ``/proc``."""
    path = Path(path)
    if str(path).startswith(("/dev/", "/proc/")):
        return True
    try:
        mode = os.stat(path).st_mode  # follows symlinks
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def file_in_the_way(folder):
    """The file that keeps ``folder`` from being made, if any: ``folder`` itself or the nearest
    existing path above it, when that is not a folder. ``None`` when the way is clear."""
    folder = Path(folder)
    for path in (folder, *folder.parents):
        if path.exists():
            return None if path.is_dir() else path
    return None


def broken_link(folder):
    """What keeps ``folder`` out of reach, if it is a symlink: ``folder`` itself or a folder
    above it that is a symlink loop or points to nothing. ``None`` when there is none."""
    folder = Path(folder)
    for path in (folder, *folder.parents):
        if path.is_symlink() and not path.exists():
            try:
                os.stat(path)
            except OSError as e:
                if e.errno == errno.ELOOP:
                    return f"{path} is a symlink loop"
            return f"{path} is a symlink to {os.readlink(path)}, which is missing"
    return None


def part_path(path):
    """The temporary ``.<name>.<pid>.part`` beside ``path``, its name cut to fit NAME_MAX."""
    path = Path(path)
    suffix = f".{os.getpid()}.part"
    name = os.fsencode(path.name)[: NAME_MAX - 1 - len(suffix)]
    return path.with_name("." + os.fsdecode(name).rstrip("\udcff") + suffix)


@contextlib.contextmanager
def atomic_path(path, follow_symlinks=True):
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    A symlink is resolved first, so the file it points to is replaced and the link stays;
    a device or FIFO is yielded as it is, to be written directly. With
    ``follow_symlinks=False`` whatever is at ``path`` is replaced, link, device or not.
    A full disk or a folder that refuses the file raises :class:`WriteError` naming
    ``path``; no ``.part`` is left.
    """
    path = Path(path)
    in_place = follow_symlinks and writes_in_place(path)
    resolve = follow_symlinks and path.is_symlink() and not in_place
    target = Path(os.path.realpath(path)) if resolve else path
    tmp = target if in_place else part_path(target)
    try:
        yield tmp
        if not in_place:
            os.replace(tmp, target)
    except OSError as e:
        # Only errors about the output itself; a bad *input* (say a truncated .gz) keeps its
        # own message.
        if e.errno in _WRITE_ERRNOS and e.filename in (None, str(tmp), str(target), str(path)):
            raise WriteError(f"could not write {path}: {e.strerror or e}") from e
        raise
    finally:
        if not in_place:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


def write_json(path, data, follow_symlinks=True):
    """Write ``data`` as indented JSON, atomically; ``-`` is standard output.

    ``follow_symlinks=False`` replaces a link rather than the file it points to."""
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    if str(path) == "-":
        out = json_stdout or sys.stdout
        out.write(text)
        out.flush()
        return
    with atomic_path(path, follow_symlinks) as tmp, open(tmp, "w") as f:
        f.write(text)


def file_digest(path, name="sha256", chunk=1 << 20):
    """The hex digest of a file by the hashlib algorithm ``name``, read in 1 MiB chunks."""
    digest = hashlib.new(name)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()
