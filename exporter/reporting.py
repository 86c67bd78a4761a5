"""Progress reporting for the export: readable lines for a person, JSON lines for the Nuke side.

The bar is time, not step count. Each stage costs a fixed part plus some full forward passes of the network,
the one cost that grows with the resolution (seconds at 512, minutes at 2048 on a CPU). The trace is the first
forward pass and is timed, so every later estimate uses this machine's figure; within a stage of equal steps
(validation) the steps already done time the rest. Each event carries the elapsed and the estimated remaining
seconds, and a heartbeat repeats the current step while it runs, so a step of several minutes never looks like
a hang.

The JSON protocol (`--progress json`: event names, fields, error kinds) is nuke_plugin.contract.progress, which the
Nuke side reads with the same definitions.
"""
from __future__ import annotations

import math
import sys
import threading
import time
from dataclasses import dataclass
from typing import IO, Dict, List, Optional

from nuke_plugin.contract import progress


@dataclass(frozen=True)
class StageCost:
    name: str
    fixed_s: float   # seconds on a CPU whatever the resolution (reading, building, scripting, saving)
    passes: float    # full forward passes of the network at the model resolution


# Measured with `python -m exporter --progress human` at 256, 512 and 1024 on a 2-core CPU (the "Stage times" line
# it prints at the end). Validation's fixed part is mostly the TorchScript executor's first calls; its passes and
# those of --verify-with are set per export by Reporter.plan.
STAGES = (
    StageCost("check", 2.0, 0),
    StageCost("build", 2.5, 0),
    StageCost("load", 0.5, 0),
    StageCost("trace", 3.0, 1),
    StageCost("reference", 2.0, 0),   # only when validating on a GPU, where a second eager pass is cheap
    StageCost("script", 0.5, 0),
    StageCost("save", 2.5, 0),
    StageCost("validate", 15.0, 0),   # passes: validate.VALIDATION_PASSES, given by Reporter.plan
    StageCost("verify", 5.0, 0),      # other torches, only with --verify-with (passes given by Reporter.plan)
    StageCost("manifest", 0.5, 0),
)
STAGE_NAMES = tuple(stage.name for stage in STAGES)
FIXED_S = {stage.name: stage.fixed_s for stage in STAGES}
# The trace's forward pass (seconds) by resolution on a 2-core CPU, measured by the exports above and one at 2048.
# It does not follow one power: from 1024 to 2048 Hiera's global attention takes over (x11 for x4 pixels). Only
# the first estimate uses this; the trace's own time replaces it.
TRACE_PASS_S = ((256, 3.4), (512, 8.0), (1024, 20.0), (2048, 233.0))
HEARTBEAT_S = {"json": 2.0, "human": 30.0}


def guess_forward_seconds(resolution: int) -> float:
    """TRACE_PASS_S interpolated on log-log axes (a power law between neighbours), extended by its end segments."""
    points = [(math.log(res), math.log(seconds)) for res, seconds in TRACE_PASS_S]
    x = math.log(max(resolution, 1))
    index = 1
    while index < len(points) - 1 and x > points[index][0]:
        index += 1
    (x0, y0), (x1, y1) = points[index - 1], points[index]
    return math.exp(y0 + (y1 - y0) * (x - x0) / (x1 - x0))


class Reporter:
    """Writes progress events in the chosen format; `quiet` suppresses everything but errors."""

    def __init__(self, mode: str = "human", stream: Optional[IO[str]] = None,
                 heartbeat_s: Optional[float] = None) -> None:
        if mode not in ("human", "json", "quiet"):
            raise ValueError("progress mode must be human, json or quiet")
        self.mode = mode
        self.stream = stream or sys.stdout
        self.started = time.monotonic()
        self.heartbeat_s = HEARTBEAT_S.get(mode, 0.0) if heartbeat_s is None else heartbeat_s
        self.passes: Dict[str, float] = {stage.name: stage.passes for stage in STAGES}
        self.skipped: List[str] = ["reference", "verify"]
        self.forward_s = guess_forward_seconds(512)
        self.stage_seconds: Dict[str, float] = {}
        self._lock = threading.RLock()
        self._stage = ""
        self._message = ""
        self._fraction = 0.0
        self._stage_started = self.started
        self._step_started = self.started
        self._step_remaining = 0.0
        self._shown = 0.0
        self._last_stage_event = self.started
        self._stop = threading.Event()
        self._heartbeat: Optional[threading.Thread] = None
        # Human lines into a log (a farm, CI, `> file`): one per stage or per 5 % (contract's LineThrottle).
        self._lines = progress.LineThrottle() if mode == "human" and not progress.is_terminal(self.stream) else None

    def plan(self, resolution: int, validate_passes: float, verify_passes: float = 0.0,
             gpu_reference: bool = False) -> None:
        """What this export will do: sets the stage estimates before the first stage starts."""
        self.forward_s = guess_forward_seconds(resolution)
        self.passes["validate"] = validate_passes
        self.passes["verify"] = verify_passes
        self.skipped = [name for name, wanted in (("reference", gpu_reference), ("verify", verify_passes > 0))
                        if not wanted]

    def _estimate(self, name: str) -> float:
        return FIXED_S[name] + self.passes[name] * self.forward_s

    def _remaining_at_step_start(self, now: float) -> float:
        """This stage's rest (timed by its own finished steps once there are some) plus the later stages."""
        in_stage = now - self._stage_started
        if self._fraction > 0.0 and in_stage > 0.0:
            current = in_stage * (1.0 - self._fraction) / self._fraction
        else:
            current = max(self._estimate(self._stage) - in_stage, 0.0)
        later = STAGE_NAMES[STAGE_NAMES.index(self._stage) + 1:]
        return current + sum(self._estimate(name) for name in later if name not in self.skipped)

    def _finish_stage(self, now: float) -> None:
        if not self._stage:
            return
        seconds = now - self._stage_started
        self.stage_seconds[self._stage] = self.stage_seconds.get(self._stage, 0.0) + seconds
        if self._stage == "trace":  # the first forward pass on this machine: every later estimate uses it
            self.forward_s = max(seconds - FIXED_S["trace"], 0.01)

    def stage(self, stage: str, message: str, fraction: float = 0.0) -> None:
        """Enter (or advance within) a stage; `fraction` is how far through that stage we are."""
        if stage not in STAGE_NAMES:
            raise ValueError("unknown stage %r" % stage)
        with self._lock:
            now = time.monotonic()
            if stage != self._stage:
                self._finish_stage(now)
                self._stage, self._stage_started = stage, now
            self._message, self._fraction = message, max(0.0, min(1.0, fraction))
            self._step_started = now
            self._step_remaining = self._remaining_at_step_start(now)
            self._emit_stage(now)
        self._start_heartbeat()

    def _emit_stage(self, now: float) -> None:
        elapsed = now - self.started
        remaining = max(self._step_remaining - (now - self._step_started), 1.0)
        # Never backwards, never 100 % before the end: a bar that retreats is worse than one that waits.
        self._shown = max(self._shown, min(elapsed / (elapsed + remaining), 0.99))
        self._emit(progress.stage_event(self._stage, self._message, self._shown, elapsed, remaining))
        self._last_stage_event = now

    def _start_heartbeat(self) -> None:
        if self._heartbeat is None and self.heartbeat_s > 0:
            self._heartbeat = threading.Thread(target=self._beat, name="export progress", daemon=True)
            self._heartbeat.start()

    def _beat(self) -> None:
        """Repeats the current step once it has been silent for a whole interval (not on a fixed clock, which
        would print a step twice within seconds)."""
        while not self._stop.wait(self.heartbeat_s / 4.0):
            with self._lock:
                now = time.monotonic()
                if self._stage and not self._stop.is_set() and now - self._last_stage_event >= self.heartbeat_s:
                    self._emit_stage(now)

    def _close(self) -> None:
        with self._lock:
            self._stop.set()
            self._finish_stage(time.monotonic())
            self._stage = ""

    def _emit(self, event: progress.Event) -> None:
        with self._lock:
            if self.mode == "json":
                self.stream.write(progress.encode(event) + "\n")
            elif self.mode == "human":
                if self._lines is not None and not self._lines.admit(event):
                    return
                self.stream.write(progress.describe(event) + "\n")
            elif event["event"] == progress.ERROR:
                sys.stderr.write(progress.describe(event) + "\n")
            self.stream.flush()

    def log(self, message: str) -> None:
        self._emit(progress.log_event(message))

    def done(self, pt: str, manifest: str) -> None:
        self._close()
        self._emit(progress.done_event(pt, manifest, time.monotonic() - self.started, self.stage_seconds))

    def error(self, message: str, kind: str = progress.USER) -> None:
        self._close()
        self._emit(progress.error_event(message, kind))
