"""One import for Qt whichever binding the running Nuke ships: PySide6 (Nuke 16+) first, then PySide2 (Nuke <= 15).

Why: the dialogs are written once. ``CORRIDORKEY_QT_API=pyside2`` (or ``pyside6``) forces one binding, for tests
and for odd studio set-ups. Importing this module without either binding raises ImportError with a sentence
that says so; nothing else in the plugin imports Qt, so Nuke in terminal mode never needs it.
"""
from __future__ import annotations

import importlib
import os
from typing import Any, List, Tuple

QT_API_VARIABLE = "CORRIDORKEY_QT_API"
BINDINGS = ("PySide6", "PySide2")


def _binding_order() -> Tuple[str, ...]:
    forced = os.environ.get(QT_API_VARIABLE, "").strip().lower()
    for name in BINDINGS:
        if forced == name.lower():
            return (name,)
    return BINDINGS


def _load() -> Tuple[str, Any, Any, Any]:
    failures: List[str] = []
    for name in _binding_order():
        try:
            core = importlib.import_module(name + ".QtCore")
            gui = importlib.import_module(name + ".QtGui")
            widgets = importlib.import_module(name + ".QtWidgets")
        except ImportError as exc:
            failures.append("%s: %s" % (name, exc))
            continue
        return name, core, gui, widgets
    raise ImportError("CorridorKey's dialogs need PySide6 (Nuke 16+) or PySide2 (Nuke 13-15), which Nuke ships; "
                      "none could be imported here (%s)." % "; ".join(failures))


QT_BINDING, QtCore, QtGui, QtWidgets = _load()
Signal = QtCore.Signal


def exec_dialog(dialog: Any) -> int:
    """Runs a modal dialog: ``exec`` in PySide6, ``exec_`` in older PySide2."""
    run = getattr(dialog, "exec", None) or dialog.exec_
    return run()


def application() -> Any:
    """The running QApplication (Nuke's own inside Nuke), creating one only outside Nuke (tests, tools)."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication([])
    return app
