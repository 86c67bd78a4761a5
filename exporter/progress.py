"""Progress reporting for the export: readable lines for a person, JSON lines for the Nuke side.

The JSON protocol (`--progress json`: event names, fields, error kinds) is nuke_plugin.contract.progress, which the
Nuke side reads with the same definitions.
"""
from __future__ import annotations

import sys
import time
from typing import IO, Optional

from nuke_plugin.contract import progress as protocol

STAGES = (
    # (stage, share of the bar at which it starts): set by time at 2048 on a CPU, where the eager
    # reference and tracing are one forward pass of the network each and validation five.
    ("check", 0.0),
    ("build", 0.02),
    ("load", 0.04),
    ("reference", 0.06),
    ("trace", 0.20),
    ("script", 0.34),
    ("save", 0.35),
    ("validate", 0.38),
    ("manifest", 0.98),
)
STAGE_START = dict(STAGES)


class Reporter:
    """Writes progress events in the chosen format; `quiet` suppresses everything but errors."""

    def __init__(self, mode: str = "human", stream: Optional[IO[str]] = None) -> None:
        if mode not in ("human", "json", "quiet"):
            raise ValueError("progress mode must be human, json or quiet")
        self.mode = mode
        self.stream = stream or sys.stdout
        self.started = time.monotonic()

    def _emit(self, event: protocol.Event) -> None:
        if self.mode == "json":
            self.stream.write(protocol.encode(event) + "\n")
        elif self.mode == "human":
            kind = event["event"]
            if kind == protocol.STAGE:
                text = "[%3d%%] %s" % (round(event["progress"] * 100), event["message"])
            elif kind == protocol.DONE:
                text = "[100%%] Done in %.1f s: %s" % (event["seconds"], event["pt"])
            elif kind == protocol.ERROR:
                text = "ERROR: " + event["message"]
            else:
                text = "       " + event["message"]
            self.stream.write(text + "\n")
        elif event["event"] == protocol.ERROR:
            sys.stderr.write("ERROR: " + event["message"] + "\n")
        self.stream.flush()

    def stage(self, stage: str, message: str, fraction: float = 0.0) -> None:
        """Enter (or advance within) a stage; `fraction` is how far through that stage we are."""
        names = [s for s, _ in STAGES]
        start = STAGE_START[stage]
        i = names.index(stage)
        end = STAGES[i + 1][1] if i + 1 < len(STAGES) else 1.0
        self._emit(protocol.stage_event(stage, message, start + (end - start) * fraction))

    def log(self, message: str) -> None:
        self._emit(protocol.log_event(message))

    def done(self, pt: str, manifest: str) -> None:
        self._emit(protocol.done_event(pt, manifest, time.monotonic() - self.started))

    def error(self, message: str, kind: str = protocol.USER) -> None:
        self._emit(protocol.error_event(message, kind))
