"""Runs Nuke on one of our scripts from a shell: the headless build and the command-line self-test share it.

Why one launcher: Nuke holds a licence for as long as it runs. A farm's job kill (SIGTERM to this process), a
Ctrl+C or a timeout must end Nuke and everything it started, so Nuke runs in a process group of its own
(runner.process) and the whole group is ended, politely, then forcefully. The checks both command lines make
before Nuke starts live here too: `--nuke` names an executable, `--nuke-flags` is not empty, a timeout is a
finite, positive number of seconds (a NaN would wait forever, 0 would kill Nuke at once).

Pure Python 3.9+ (no Nuke, no Qt).
"""
from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ..contract import progress
from . import process

DEFAULT_NUKE_FLAGS = ("--nukex", "-i")
EXITED, TIMED_OUT, CANCELLED, NOT_STARTED = "exited", "timed out", "cancelled", "not started"


def seconds(text: str) -> float:
    """An argparse type: a finite, positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError("%r is not a positive number of seconds; give e.g. 900" % text)
    return value


def find_nuke(nuke: str) -> str:
    """The Nuke executable's full path; raises ValueError saying what to give instead."""
    if "\0" in nuke:
        raise ValueError("--nuke %r is not a usable path (it contains a NUL character)" % nuke)
    found = shutil.which(nuke) if os.path.basename(nuke) == nuke else None
    path = os.path.abspath(found or nuke)
    if not os.path.exists(path):
        raise ValueError("--nuke %s: no such file. Give the path of the NukeX executable, e.g. "
                         "/usr/local/Nuke16.0v2/Nuke16.0" % nuke)
    if os.path.isdir(path) or not os.access(path, os.X_OK):
        raise ValueError("--nuke %s is not an executable file. Give the Nuke executable inside the install "
                         "folder, e.g. /usr/local/Nuke16.0v2/Nuke16.0" % nuke)
    return path


def nuke_version_in(path: str) -> Optional[Tuple[int, int]]:
    """(major, minor) from a Nuke executable's name or folder as Foundry installs it (Nuke16.0v2/Nuke16.0)."""
    for part in (os.path.basename(path), os.path.basename(os.path.dirname(path))):
        found = re.match(r"^Nuke[X]?(\d+)\.(\d+)", part)
        if found:
            return int(found.group(1)), int(found.group(2))
    return None


def flags_problem(flags: str) -> Optional[str]:
    if not flags.split():
        return "--nuke-flags is empty; leave it out to use %r." % " ".join(DEFAULT_NUKE_FLAGS)
    return None


def nuke_command(nuke: str, flags: Sequence[str], script: str, last: Optional[str] = None) -> List[str]:
    """``Nuke FLAGS script.py [LAST]``: a file argument goes last, so that Nuke takes no number as frames."""
    return [nuke] + list(flags) + [script] + ([last] if last else [])


class CancelOnSignals:
    """Inside the block, SIGINT and SIGTERM set `flag` instead of ending this process, so the launcher ends Nuke's
    process group first (a farm's job kill must not leave Nuke running with its licence taken)."""

    def __init__(self) -> None:
        self.flag = threading.Event()
        self.previous: Dict[Any, Any] = {}

    def __enter__(self) -> "CancelOnSignals":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.previous[sig] = signal.signal(sig, lambda *_: self.flag.set())
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


@dataclass
class NukeRun:
    """How Nuke's run ended. `message` says it for a person; `returncode` is None unless it exited."""

    status: str
    seconds: float
    message: str
    returncode: Optional[int] = None
    stderr_tail: str = ""


def run_nuke(argv: Sequence[str], timeout: float, cancelled: Callable[[], bool],
             *, on_line: Callable[[str], None] = print, environ: Optional[Mapping[str, str]] = None,
             grace: float = 10.0) -> NukeRun:
    """Runs Nuke to its end, a timeout or a cancel (the process group is ended for both); each line Nuke prints on
    stdout goes to `on_line`. Nuke gets this process's environment (plus `environ`), not the export's cleaned one:
    a studio's Nuke set-up lives there."""
    env = dict(os.environ)
    env.update(environ or {})
    env["PYTHONUNBUFFERED"] = "1"

    def show(event: progress.Event) -> None:
        if event.get("event") in (progress.STAGE, progress.LOG):
            on_line(progress.describe(event))

    started = time.monotonic()
    outcome = process.run_streaming(argv, show, is_cancelled=cancelled, env=env, timeout=timeout, grace=grace)
    elapsed = time.monotonic() - started
    if outcome.kind == "launch":
        return NukeRun(NOT_STARTED, elapsed, outcome.message)
    if cancelled():
        return NukeRun(CANCELLED, elapsed, "cancelled: Nuke and what it started were stopped",
                       stderr_tail=outcome.stderr_tail)
    if outcome.kind == "timeout":
        return NukeRun(TIMED_OUT, elapsed, "was stopped after %.0f s" % timeout, stderr_tail=outcome.stderr_tail)
    return NukeRun(EXITED, elapsed, "ended (status %s)" % outcome.returncode, outcome.returncode,
                   outcome.stderr_tail)
