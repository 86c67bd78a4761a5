"""When a cancel may stop the export, and the moment it must wait: the commit of the .pt and its manifest.

Nuke's Cancel ends the exporter with SIGTERM (CTRL_BREAK on Windows), a TD presses Ctrl+C; Python runs the handler
between any two bytecodes of the main thread. Before the commit, a cancel raises ExportCancelled and the clean-up
removes the partial files: nothing was written. During the commit it is only noted; the commit completes and is then
undone, so "nothing was written, the previous build is unchanged" stays true at every instruction. Once the commit
is done the export has finished: a cancel is too late, is noted and ignored, and the exporter reports done. After
a first cancel, further signals are only noted, so they cannot interrupt the clean-up.
"""
from __future__ import annotations

import signal
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Optional

from .errors import ExportCancelled

RUNNING, COMMITTING, COMMITTED, CANCELLING = "running", "committing", "committed", "cancelling"


class _State:
    phase = RUNNING
    noted: Optional[int] = None  # a signal that came while it could not act


_state = _State()


def on_signal(signum: int, frame: Any) -> None:
    """The handler for SIGTERM, SIGINT (and SIGBREAK): raises only while nothing is being committed."""
    if _state.phase == RUNNING:
        _state.phase = CANCELLING
        raise ExportCancelled("export cancelled (signal %d)" % signum)
    _state.noted = signum


def install() -> None:
    """Routes the cancelling signals to on_signal (main thread only, as Python requires)."""
    reset()
    for name in ("SIGTERM", "SIGINT", "SIGBREAK"):  # SIGBREAK: Windows, where the Nuke side sends CTRL_BREAK_EVENT
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), on_signal)


def reset() -> None:
    _state.phase = RUNNING
    _state.noted = None


@contextmanager
def commit_window() -> Iterator[Callable[[], bool]]:
    """While inside, signals are noted, not raised; the block asks `requested()` once its moves are done, undoes
    them if so, and otherwise calls `committed()` before leaving."""
    _state.phase = COMMITTING
    try:
        yield lambda: _state.noted is not None
    except BaseException:
        _state.phase = CANCELLING  # the export ends with this exception: its clean-up must not be interrupted
        raise


def committed() -> None:
    """The new files are in place for good: from now on a cancel is too late (one store: atomic for a handler)."""
    _state.phase = COMMITTED


def phase() -> str:
    return _state.phase
