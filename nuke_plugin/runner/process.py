"""Runs a command (the exporter, pip, a probe, NukeX) in another process, streaming its output, cancellable.

Why a subprocess: Nuke's own Python has no timm and an embedded torch we must not disturb, and a 2048 export
takes minutes and gigabytes; the export therefore runs in the CorridorKey environment's interpreter
(nuke_plugin.runner.exporter_client). Commands that speak the exporter's JSON-lines protocol
(nuke_plugin.contract.progress) are read event by event; any other output arrives as log events.

Cancel ends the whole process tree: first politely (SIGTERM to the process group on POSIX, CTRL_BREAK on
Windows), which the exporter turns into its own clean-up; after a grace period, forcefully. The exporter writes
under temporary names and renames at the end, so a previous build is never touched; partial files a forced
kill could leave are removed here.

Pure Python 3.9+ (no Nuke, no torch): the thread that calls this decides how progress is shown.
"""
from __future__ import annotations

import collections
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Dict, Iterator, List, Mapping, Optional, Sequence

from ..contract import exits
from ..contract.progress import DONE as DONE_EVENT
from ..contract.progress import ERROR as ERROR_EVENT
from ..contract.progress import LOG as LOG_EVENT
from ..contract.progress import Event, parse_event

# Variables a host application (Nuke) sets for its *own* embedded Python. Passed on, they make another
# interpreter load the wrong standard library or site-packages, so they are removed for child processes.
HOST_PYTHON_VARIABLES = ("PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONEXECUTABLE", "PYTHONUSERBASE")

DONE, FAILED, CANCELLED = "done", "failed", "cancelled"
STDERR_TAIL_LINES = 40


def child_environment(environ: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """The environment for another interpreter: the host's, less its Python variables, unbuffered output."""
    env = dict(os.environ if environ is None else environ)
    for name in HOST_PYTHON_VARIABLES:
        env.pop(name, None)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def format_command(argv: Sequence[str]) -> str:
    """A command as a person would paste it into this OS's shell."""
    if os.name == "nt":
        return subprocess.list2cmdline(list(argv))
    import shlex
    return " ".join(shlex.quote(a) for a in argv)


class RunningProcess:
    """A child process whose stdout lines arrive on a queue (so the caller can poll for cancel) and whose
    stderr is kept as a tail for error reports. Started in its own process group so the tree can be ended."""

    def __init__(self, argv: Sequence[str], cwd: Optional[str] = None,
                 env: Optional[Mapping[str, str]] = None) -> None:
        self.argv = list(argv)
        kwargs: Dict[str, Any] = {}
        if os.name == "nt":
            kwargs["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0) | getattr(
                subprocess, "CREATE_NO_WINDOW", 0)
        else:
            kwargs["start_new_session"] = True
        self.process = subprocess.Popen(
            self.argv, cwd=cwd, env=dict(env) if env is not None else child_environment(),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True, encoding="utf-8", errors="replace", bufsize=1, **kwargs)
        self._lines: "queue.Queue[Optional[str]]" = queue.Queue()
        self._stderr: Deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        self._stdout_thread = threading.Thread(target=self._pump_stdout, daemon=True)
        self._stderr_thread = threading.Thread(target=self._pump_stderr, daemon=True)
        self._stdout_thread.start()
        self._stderr_thread.start()
        self.killed = False

    def _pump_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\r\n"))
        self._lines.put(None)  # end of output

    def _pump_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._stderr.append(line.rstrip("\r\n"))

    def lines(self, poll_interval: float = 0.1) -> Iterator[Optional[str]]:
        """Yields stdout lines; yields None every `poll_interval` seconds of silence; stops at end of output."""
        while True:
            try:
                line = self._lines.get(timeout=poll_interval)
            except queue.Empty:
                yield None
                continue
            if line is None:
                return
            yield line

    def rest(self) -> List[str]:
        """The lines still queued once the process has ended (those that came after a cancel or a timeout)."""
        found: List[str] = []
        while True:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                return found
            if line is None:
                return found
            found.append(line)

    def stderr_tail(self) -> str:
        self._stderr_thread.join(timeout=2.0)
        return "\n".join(self._stderr)

    def wait(self, timeout: Optional[float] = None) -> int:
        code = self.process.wait(timeout)
        self._stdout_thread.join(timeout=2.0)
        return code

    def terminate_tree(self, grace: float = 10.0) -> None:
        """Ask the process group to stop, then force it after `grace` seconds."""
        if self.process.poll() is not None:
            return
        self.killed = True
        try:
            if sys.platform == "win32":
                self.process.send_signal(signal.CTRL_BREAK_EVENT)
            else:
                os.killpg(self.process.pid, signal.SIGTERM)
        except (OSError, ValueError):
            pass
        try:
            self.process.wait(grace)
            if os.name != "nt":
                _kill_group(self.process.pid)  # helpers the child started may outlive it
            return
        except subprocess.TimeoutExpired:
            pass
        if os.name == "nt":
            subprocess.call(["taskkill", "/F", "/T", "/PID", str(self.process.pid)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        else:
            _kill_group(self.process.pid)
        self.process.wait()


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass


@dataclass
class CommandOutcome:
    """How a streamed command ended. `message` is what to show a person."""

    status: str                       # DONE, FAILED or CANCELLED
    message: str
    returncode: Optional[int] = None
    kind: str = ""                    # exporter's error kind (user/internal/cancelled) or launch/crash/timeout
    pt: Optional[str] = None
    manifest: Optional[str] = None
    stderr_tail: str = ""
    log: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == DONE


def run_streaming(argv: Sequence[str], on_event: Callable[[Event], None],
                  *, is_cancelled: Callable[[], bool] = lambda: False, cwd: Optional[str] = None,
                  env: Optional[Mapping[str, str]] = None, timeout: Optional[float] = None,
                  grace: float = 10.0, poll_interval: float = 0.1) -> CommandOutcome:
    """Runs a command speaking the JSON-lines protocol (or plain text), reporting each event as it comes.

    Returns DONE when the process exits 0 without an "error" event, whether or not it said "done": a "done"
    event's files land in `pt` and `manifest`, and a caller that needs them checks them (exporter_client does).
    """
    try:
        proc = RunningProcess(argv, cwd=cwd, env=env)
    except (OSError, ValueError) as exc:  # ValueError: a NUL in an argument, which no OS can pass on
        return CommandOutcome(FAILED, "Could not start %s: %s" % (argv[0], getattr(exc, "strerror", None) or exc),
                              kind="launch")
    started = time.monotonic()
    done_event: Optional[Event] = None
    error_event: Optional[Event] = None
    log: List[str] = []
    stopped_by = ""

    def take(line: str) -> None:
        nonlocal done_event, error_event
        event = parse_event(line)
        kind = event.get("event")
        if kind == DONE_EVENT:
            done_event = event
        elif kind == ERROR_EVENT:
            error_event = event
        elif kind == LOG_EVENT:
            log.append(str(event.get("message", "")))
        try:
            on_event(event)
        except Exception:  # a display problem must not orphan the child process
            pass

    for line in proc.lines(poll_interval):
        if line is not None:
            take(line)
        if is_cancelled():
            stopped_by = "cancel"
        elif timeout is not None and time.monotonic() - started > timeout:
            stopped_by = "timeout"
        if stopped_by:
            break
    while not stopped_by and proc.process.poll() is None:  # output closed, process not yet gone
        if is_cancelled():
            stopped_by = "cancel"
        elif timeout is not None and time.monotonic() - started > timeout:
            stopped_by = "timeout"
        else:
            time.sleep(poll_interval)
    if stopped_by:
        proc.terminate_tree(grace)
    code = proc.wait()
    for line in proc.rest():  # what it said while it was being stopped: it may have finished first
        take(line)
    tail = proc.stderr_tail()
    if stopped_by == "cancel" and done_event is not None and code == 0:
        outcome = CommandOutcome(CANCELLED, "Cancelled too late: the export had already finished, so %s and its "
                                 "manifest are the new build; nothing else was done with it."
                                 % done_event.get("pt"), code, "cancelled", stderr_tail=tail, log=log)
        outcome.pt, outcome.manifest = str(done_event.get("pt")), str(done_event.get("manifest"))
        return outcome
    cancelled_error = error_event is None or error_event.get("kind") == "cancelled"
    if (stopped_by == "cancel" and cancelled_error) or (code == exits.EXIT_CANCELLED and not stopped_by):
        return CommandOutcome(CANCELLED, "Cancelled; nothing new was written and any previous build is unchanged.",
                              code, "cancelled", stderr_tail=tail, log=log)
    if stopped_by == "timeout":
        return CommandOutcome(FAILED, "%s did not finish within %.0f s and was stopped." % (argv[0], timeout or 0.0),
                              code, "timeout", stderr_tail=tail, log=log)
    if error_event is not None:
        return CommandOutcome(FAILED, str(error_event.get("message", "")), code,
                              str(error_event.get("kind", "internal")), stderr_tail=tail, log=log)
    if code != 0:
        last = "\n".join(tail.splitlines()[-8:]) or "\n".join(log[-8:]) or "(no output)"
        return CommandOutcome(FAILED, "The command stopped with exit code %d. Last lines:\n%s" % (code, last),
                              code, "crash", stderr_tail=tail, log=log)
    outcome = CommandOutcome(DONE, "Done.", code, stderr_tail=tail, log=log)
    if done_event is not None:
        outcome.pt = str(done_event.get("pt")) if done_event.get("pt") else None
        outcome.manifest = str(done_event.get("manifest")) if done_event.get("manifest") else None
    return outcome


def current_python() -> Optional[str]:
    """This interpreter, if it is a plain Python (inside Nuke sys.executable is Nuke itself)."""
    base = os.path.basename(sys.executable or "").lower()
    return sys.executable if base.startswith("python") else None
