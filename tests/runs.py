"""Running a command line twice at once: in a fresh process, as a user starts it, and in
the test process, through ``cli.run``.

A fresh process pays ~3.5 s of imports (torch, torch.optim's dynamo, matplotlib) before it
computes anything; the test process has paid them already, and while the fresh process
imports, the second core is free. Both runs have the same seed, so comparing their figures
is also the same-seed check.
"""

import contextlib
import io
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from d2lnotes.utils import cli


@dataclass
class Run:
    """One run of a command: its exit status, output, ``--json`` report and ``--out`` folder."""

    code: int
    stdout: str
    stderr: str
    report: dict
    out: Path


@dataclass
class Twice:
    """The same command run in a fresh process and here, in two folders under ``tmp``."""

    tmp: Path
    fresh: Run
    here: Run

    def figures(self, run):
        """``run``'s printed output and report, the wall-clock times and its folder masked."""
        stdout = re.sub(r"\d+\.\d+ s\b", "<time> s", run.stdout)  # ch3's "3.9 s"
        # ch4's summary rows pad the seconds to 8 columns, so the padding goes too.
        stdout = re.sub(r"(?m)^([a-z-]+) +\d+\.\d+(  )", r"\1 <time>\2", stdout)
        report = json.dumps({k: v for k, v in run.report.items() if k != "seconds"})
        folder = str(run.out.parent)
        return stdout.replace(folder, "<folder>"), json.loads(report.replace(folder, "<folder>"))


def _outputs(folder):
    return ["--out", folder / "out", "--json", folder / "figures.json"]


def _report(folder):
    js = folder / "figures.json"
    return json.loads(js.read_text()) if js.exists() else {}


def twice(module, main, argv, tmp, fresh_only=()):
    """Run ``argv`` with ``--out`` and ``--json`` in ``tmp / "fresh"`` (``python -m module``,
    plus the arguments ``fresh_only``) and in ``tmp / "here"`` (``main``), both at once."""
    fresh, here = tmp / "fresh", tmp / "here"
    fresh.mkdir(parents=True)
    here.mkdir(parents=True)
    argv = [str(a) for a in argv]
    # Output goes to files, not pipes, so a child never blocks on a full pipe meanwhile.
    # Both runs use one torch thread (conftest.pytest_configure): float32 sums depend on
    # how the work is split between threads.
    with open(fresh / "stdout", "w") as out, open(fresh / "stderr", "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", module, *argv, *fresh_only, *map(str, _outputs(fresh))],
            stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    try:
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = cli.run(main, argv + [str(a) for a in _outputs(here)])
        here_run = Run(code, stdout.getvalue(), stderr.getvalue(), _report(here), here / "out")
    finally:
        code = proc.wait(timeout=600)
    fresh_run = Run(code, (fresh / "stdout").read_text(), (fresh / "stderr").read_text(),
                    _report(fresh), fresh / "out")
    return Twice(tmp, fresh_run, here_run)


# The topics of ch4 that the fresh process runs: every kind of random draw but the
# Fashion-MNIST trainings, whose seeding (compare's, shared with ch3) ch3_runs covers.
CH4_FRESH = ["activations", "model-selection", "weight-decay", "init", "kaggle"]
