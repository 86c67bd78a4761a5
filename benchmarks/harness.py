"""The benchmarks' one timing and memory harness: wall and CPU time of a call, the peak RSS of this process or of
one child alone, and the machine's load (every printed figure carries it: this project's machines are shared).

Standard library only, so a benchmark answers --help without torch.
"""
import os
import resource
import subprocess
import sys
import time
from typing import Any, Callable, Sequence, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(fn: Callable[[], Any]) -> Tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call: CPU time shows what waiting for cores costs."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _bytes(max_rss: int) -> int:
    return max_rss if sys.platform == "darwin" else max_rss * 1024  # ru_maxrss: bytes on macOS, KiB elsewhere


def own_peak_rss_gb() -> float:
    """This process's peak resident memory so far, in GB."""
    return _bytes(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1e9


def run_child(argv: Sequence[str]) -> Tuple[float, float, str]:
    """Runs a command from the repository root; returns (wall seconds, its own peak RSS in GB, its stdout).
    os.wait4 gives this child's peak alone, where RUSAGE_CHILDREN would give the largest child so far."""
    start = time.perf_counter()
    proc = subprocess.Popen(list(argv), cwd=ROOT, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise subprocess.CalledProcessError(code, list(argv), out)
    return seconds, _bytes(usage.ru_maxrss) / 1e9, out


def load_average() -> float:
    """The 1-minute load average (0 where the platform has none)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0
