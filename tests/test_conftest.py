"""The test harness's own rule: a test that starts a process is marked ``slow``."""

import multiprocessing
import subprocess
import sys

import pytest
from conftest import no_processes


def test_a_process_started_where_processes_are_refused_fails_and_is_recorded():
    before = subprocess.Popen.__init__, multiprocessing.Process.start
    with no_processes("tests/test_x.py::test_y") as started:
        with pytest.raises(AssertionError, match="test_y starts a process; mark it"):
            subprocess.run([sys.executable, "-c", "pass"])
        try:  # code under test that swallows the error is still caught: the list keeps it
            multiprocessing.Process(target=print).start()
        except Exception:
            pass
    assert started == ["Popen", "Process"]
    assert (subprocess.Popen.__init__, multiprocessing.Process.start) == before


@pytest.mark.slow
def test_a_slow_test_may_start_a_process():
    done = subprocess.run([sys.executable, "-c", "print('started')"], capture_output=True,
                          text=True, timeout=120)
    assert done.stdout == "started\n"
