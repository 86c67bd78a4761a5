"""Progress reporting for the export: readable lines for a person, JSON lines for the Nuke side.

JSON protocol (one object per line on stdout, `--progress json`):
  {"event": "stage",  "stage": STAGE, "message": TEXT, "progress": 0.0-1.0}
  {"event": "log",    "message": TEXT}
  {"event": "done",   "pt": PATH, "manifest": PATH, "seconds": N, "progress": 1.0}
  {"event": "error",  "message": TEXT, "kind": "user"|"internal"|"cancelled"}
The Nuke side reads `progress` for its bar, `message` for its label, and the final done/error line.
"""
from __future__ import annotations

import json
import sys
import time
from typing import IO, Optional

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

    def _emit(self, event: dict) -> None:
        if self.mode == "json":
            self.stream.write(json.dumps(event) + "\n")
        elif self.mode == "human":
            kind = event["event"]
            if kind == "stage":
                text = "[%3d%%] %s" % (round(event["progress"] * 100), event["message"])
            elif kind == "done":
                text = "[100%%] Done in %.1f s: %s" % (event["seconds"], event["pt"])
            elif kind == "error":
                text = "ERROR: " + event["message"]
            else:
                text = "       " + event["message"]
            self.stream.write(text + "\n")
        elif event["event"] == "error":
            sys.stderr.write("ERROR: " + event["message"] + "\n")
        self.stream.flush()

    def stage(self, stage: str, message: str, fraction: float = 0.0) -> None:
        """Enter (or advance within) a stage; `fraction` is how far through that stage we are."""
        names = [s for s, _ in STAGES]
        start = STAGE_START[stage]
        i = names.index(stage)
        end = STAGES[i + 1][1] if i + 1 < len(STAGES) else 1.0
        self._emit({"event": "stage", "stage": stage, "message": message,
                    "progress": round(start + (end - start) * fraction, 4)})

    def log(self, message: str) -> None:
        self._emit({"event": "log", "message": message})

    def done(self, pt: str, manifest: str) -> None:
        self._emit({"event": "done", "pt": pt, "manifest": manifest,
                    "seconds": round(time.monotonic() - self.started, 2), "progress": 1.0})

    def error(self, message: str, kind: str = "user") -> None:
        self._emit({"event": "error", "message": message, "kind": kind})
