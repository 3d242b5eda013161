"""Permission checks hold for a user without root's powers: read-only folders and devices
give one line, and nothing is replaced."""

import functools
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from d2lnotes.utils import data

ROOT = Path(__file__).resolve().parent.parent


def _one_line(err):
    return err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err


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

# --- outputs: symlinks, devices, FIFOs, standard output ------------------------------------------


@pytest.mark.slow
def test_dev_null_works_for_a_normal_user_and_stays_a_device(public_tmp):
    r = _run_as_normal_user(["-m", "d2lnotes.ch2", "--section", "calculus", "--no-plots",
                             "--json", "/dev/null"], public_tmp)
    assert r.returncode == 0, r.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)

# --- unusable data folders -----------------------------------------------------------------------


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

