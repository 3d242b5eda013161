"""The suite's longest trainings, run in a second process while the other tests run.

Softmax regression (§3.6-3.7), the MLP (§4.2-4.3) and the dropout MLP (§4.6), both versions
each, 10 epochs at the book's settings, take most of a minute. ``conftest.fashion_mnist_raw``
starts this file as soon as the data is in place, and the fixtures named in ``TRAININGS``
load what it saved. Each is still trained once per session, with the same seeds, so the
same figures.

Both processes run torch on one thread (conftest.py), one core each: two threads per
process on two cores would make each wait for a thread the other has preempted.
``python tests/background.py FOLDER NAME...`` saves ``FOLDER/NAME.pt`` for each name in
turn, atomically.
"""

import subprocess
import sys
import time
from pathlib import Path

import torch


def _softmax(data):
    from d2lnotes.ch3 import compare_softmax_regression

    return compare_softmax_regression(num_epochs=10, data=data)


def _mlp(data):
    from d2lnotes.ch4 import compare_mlp

    return compare_mlp(num_epochs=10, data=data)


def _dropout(data):
    from d2lnotes.ch4 import compare_dropout

    return compare_dropout(num_epochs=10, data=data)


# fixture name -> its training, given (train_iter, test_iter) at the book's batch size 256
TRAININGS = {"softmax_run": _softmax, "mlp_run": _mlp, "dropout_run": _dropout}


class Trainings:
    """The background process, started on ``names``, and the folder it saves them in."""

    def __init__(self, folder, names):
        self.folder, self.names = Path(folder), list(names)
        self.log = self.folder / "background.log"
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, __file__, str(folder), *self.names],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def result(self, name, timeout=900):
        """Wait until ``name`` is saved (or the process has failed), then load it."""
        path = self.folder / f"{name}.pt"
        deadline = time.monotonic() + timeout
        while not path.exists():
            if self.proc.poll() is not None and not path.exists():
                raise RuntimeError(f"the background training {name} failed (exit "
                                   f"{self.proc.returncode}):\n{self.log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the background training {name} took over {timeout} s")
            time.sleep(0.05)
        return torch.load(path, weights_only=False)

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def main(folder, names):
    from d2lnotes.utils.data import load_fashion_mnist

    torch.set_num_threads(1)
    data = load_fashion_mnist(256)
    for name in names:
        result = TRAININGS[name](data)
        part = Path(folder) / f".{name}.pt.part"
        torch.save(result, part)
        part.rename(Path(folder) / f"{name}.pt")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
