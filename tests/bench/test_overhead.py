"""bench.overhead's memory count: which processes belong to a service, and their KiB."""

from __future__ import annotations

import os
import subprocess
import sys

from bench.overhead import descendants, process_parents, status_kib

STATUS = "Name:\tpython\nVmPeak:\t  900 kB\nVmHWM:\t  812 kB\nVmRSS:\t  640 kB\nThreads:\t4\n"


def test_a_process_counts_with_its_children_and_grandchildren_and_nothing_else() -> None:
    parents = {1: 0, 10: 1, 11: 10, 12: 10, 13: 11, 20: 1, 21: 20}
    assert descendants(10, parents) == [10, 11, 13, 12]
    assert descendants(12, parents) == [12]
    assert descendants(99, parents) == [99]


def test_resident_kib_is_read_from_its_line_and_a_zombie_without_one_has_none() -> None:
    assert status_kib(STATUS, "VmRSS") == 640
    assert status_kib(STATUS, "VmHWM") == 812
    assert status_kib("Name:\tpython\nState:\tZ (zombie)\n", "VmRSS") == 0
    assert status_kib("55d0-7ffc ---p 00000000 00:00 0  [rollup]\nRss:  700 kB\nPss:  350 kB\n", "Pss") == 350


def test_a_real_child_is_found_below_this_process() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in descendants(os.getpid(), process_parents())
    finally:
        child.kill()
        child.wait()
