"""The exporter's JSON-lines progress protocol (``--progress json``): one object per line on stdout.

  {"event": "stage",  "stage": STAGE, "message": TEXT, "progress": 0.0-1.0, "elapsed": S, "remaining": S}
  {"event": "log",    "message": TEXT}
  {"event": "done",   "pt": PATH, "manifest": PATH, "seconds": S, "stages": {STAGE: S}, "progress": 1.0}
  {"event": "error",  "message": TEXT, "kind": "user"|"internal"|"cancelled"}

The exporter writes these (exporter/reporting.py); the Nuke side reads `progress` for its bar, `message` for its
label, and the final done / error line (nuke_plugin/runner). `progress` is the share of the estimated time, and
`remaining` the estimate in seconds; both sides show an event as a person reads it with `describe`.
"""
from __future__ import annotations

import json
from typing import Any, Dict, Optional

from .files import parse_json

STAGE, LOG, DONE, ERROR = "stage", "log", "done", "error"
EVENTS = (STAGE, LOG, DONE, ERROR)
# error kinds
USER, INTERNAL, CANCELLED = "user", "internal", "cancelled"
ERROR_KINDS = (USER, INTERNAL, CANCELLED)

Event = Dict[str, Any]


def stage_event(stage: str, message: str, progress: float, elapsed: float = 0.0,
                remaining: Optional[float] = None) -> Event:
    event = {"event": STAGE, "stage": stage, "message": message, "progress": round(progress, 4),
             "elapsed": round(elapsed, 1)}
    if remaining is not None:
        event["remaining"] = round(remaining, 1)
    return event


def log_event(message: str) -> Event:
    return {"event": LOG, "message": message}


def done_event(pt: str, manifest: str, seconds: float, stages: Optional[Dict[str, float]] = None) -> Event:
    return {"event": DONE, "pt": pt, "manifest": manifest, "seconds": round(seconds, 2),
            "stages": {name: round(value, 2) for name, value in (stages or {}).items()}, "progress": 1.0}


def error_event(message: str, kind: str = USER) -> Event:
    if kind not in ERROR_KINDS:
        raise ValueError("error kind must be one of %s, got %r" % (", ".join(ERROR_KINDS), kind))
    return {"event": ERROR, "message": message, "kind": kind}


def encode(event: Event) -> str:
    """One line of the protocol (without the newline)."""
    return json.dumps(event)


def parse_event(line: str) -> Event:
    """One line of the protocol as a dict; anything else (a stray print or warning) becomes a log event."""
    text = line.strip()
    if text.startswith("{"):
        try:
            event = parse_json(text)  # a child's output: nesting too deep or a huge number is a log line too
        except ValueError:
            event = None
        if isinstance(event, dict) and isinstance(event.get("event"), str):
            return event
    return log_event(line)


def duration(seconds: float) -> str:
    """'45 s', '3 min 05 s', '1 h 02 min': what a person reads on a progress line."""
    whole = int(round(max(seconds, 0.0)))
    if whole < 60:
        return "%d s" % whole
    if whole < 3600:
        return "%d min %02d s" % (whole // 60, whole % 60)
    return "%d h %02d min" % (whole // 3600, whole % 3600 // 60)


def timing(event: Event) -> str:
    """'2 min 10 s elapsed, about 4 min 05 s left' from a stage event ('' for an older exporter's event)."""
    try:
        elapsed = float(event["elapsed"])
    except (KeyError, TypeError, ValueError):
        return ""
    text = "%s elapsed" % duration(elapsed)
    try:
        text += ", about %s left" % duration(float(event["remaining"]))
    except (KeyError, TypeError, ValueError):
        pass
    return text


def stage_text(event: Event) -> str:
    """A stage event's message with its timing: the label under Build Model's progress bar."""
    when = timing(event)
    message = str(event.get("message", ""))
    return "%s (%s)" % (message, when) if when else message


def is_terminal(stream: Any) -> bool:
    """Whether a person watches `stream` live (a TTY), as opposed to a log file or a farm's capture."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


class LineThrottle(object):
    """What a log without a terminal keeps of the stage events: the first of each stage, then one per STEP of
    progress. Log, done and error events always pass. A 35-minute export then writes a few dozen lines, not one
    per heartbeat (every 2 s in JSON mode) or per traced block."""

    STEP = 0.05

    def __init__(self) -> None:
        self._stage: Optional[str] = None
        self._progress = 0.0

    def admit(self, event: Event) -> bool:
        if event.get("event") != STAGE:
            return True
        try:
            progress = float(event.get("progress", 0.0))
        except (TypeError, ValueError):
            progress = 0.0
        stage = str(event.get("stage", ""))
        if stage != self._stage or progress >= self._progress + self.STEP - 1e-9:
            self._stage, self._progress = stage, progress
            return True
        return False


def describe(event: Event) -> str:
    """One event as a line for a person: the exporter's human mode and the headless build print these."""
    kind = event.get("event")
    message = str(event.get("message", ""))
    if kind == STAGE:
        try:
            percent = round(float(event.get("progress", 0.0)) * 100)
        except (TypeError, ValueError):
            percent = 0
        return "[%3d%%] %s" % (percent, stage_text(event))
    if kind == DONE:
        stages = event.get("stages") or {}
        line = "[100%%] Done in %s." % duration(float(event.get("seconds", 0.0)))
        if isinstance(stages, dict) and stages:
            line += " Stage times: " + ", ".join("%s %.1f s" % (name, float(value)) for name, value in stages.items())
        # Last, so that the end of a log names both files the export wrote.
        return line + "\n       Wrote %s and its manifest %s" % (event.get("pt", ""), event.get("manifest", ""))
    if kind == ERROR:
        return "ERROR: " + message
    return "       " + message
