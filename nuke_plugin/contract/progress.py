"""The exporter's JSON-lines progress protocol (``--progress json``): one object per line on stdout.

  {"event": "stage",  "stage": STAGE, "message": TEXT, "progress": 0.0-1.0}
  {"event": "log",    "message": TEXT}
  {"event": "done",   "pt": PATH, "manifest": PATH, "seconds": N, "progress": 1.0}
  {"event": "error",  "message": TEXT, "kind": "user"|"internal"|"cancelled"}

The exporter writes these (exporter/progress.py); the Nuke side reads `progress` for its bar, `message` for its
label, and the final done / error line (nuke_plugin/runner).
"""
from __future__ import annotations

import json
from typing import Any, Dict

STAGE, LOG, DONE, ERROR = "stage", "log", "done", "error"
EVENTS = (STAGE, LOG, DONE, ERROR)
# error kinds
USER, INTERNAL, CANCELLED = "user", "internal", "cancelled"
ERROR_KINDS = (USER, INTERNAL, CANCELLED)

Event = Dict[str, Any]


def stage_event(stage: str, message: str, progress: float) -> Event:
    return {"event": STAGE, "stage": stage, "message": message, "progress": round(progress, 4)}


def log_event(message: str) -> Event:
    return {"event": LOG, "message": message}


def done_event(pt: str, manifest: str, seconds: float) -> Event:
    return {"event": DONE, "pt": pt, "manifest": manifest, "seconds": round(seconds, 2), "progress": 1.0}


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
            event = json.loads(text)
        except ValueError:
            event = None
        if isinstance(event, dict) and isinstance(event.get("event"), str):
            return event
    return log_event(line)
