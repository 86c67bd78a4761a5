"""Build Model, as the CorridorKey menu runs it: dialog -> background export -> .cat, gizmo and node.

Why this shape: the export takes minutes, so it runs in a worker thread, reported through a nuke.ProgressTask
whose Cancel ends the exporter (nothing partial is left, a previous build stays). Nuke allows node creation and
dialogs only on the main thread, so the worker hands the last step (`finish_build.finish_build`: build the .cat with
CatFileCreator, install the gizmo, drop the node) and every message to the main thread with
nuke.executeInMainThread[WithResult] - never calling those from the main thread itself, where Nuke would hang.

`nuke` is imported inside functions only, so this module imports (and is testable) without Nuke.
"""
from __future__ import annotations

import json
import os
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional

from . import contract, env_probe, export_runner
from .errors import BuildDeclined, CorridorKeyError
from .settings import Settings, load_settings, save_settings, settings_path
from .torch_targets import TORCH_TARGETS_BY_KEY, torch_target_for_nuke, version_tuple

PROGRESS_TITLE = "CorridorKey: Build Model"
EXPORT_SHARE = 90  # percent of the bar the export takes; the .cat and install take the rest

FinishFunction = Callable[..., Any]


@dataclass
class BuildRequest:
    """Everything a build needs, fixed when the artist presses Build."""

    python: str
    checkpoint: str
    resolution: int
    build_dir: str
    install_dir: str = ""
    torch_target: str = ""

    @property
    def output_pt(self) -> str:
        return os.path.join(self.build_dir, contract.PT_NAME)

    @classmethod
    def from_settings(cls, settings: Settings, python: str) -> "BuildRequest":
        return cls(python=python, checkpoint=settings.checkpoint, resolution=settings.resolution,
                   build_dir=settings.resolved_build_dir(), install_dir=settings.install_dir,
                   torch_target=settings.torch_target)


@dataclass
class BuildResult:
    status: str                       # export_runner.DONE / FAILED / CANCELLED
    message: str
    export: Optional[export_runner.CommandOutcome] = None
    finished: Any = None              # what finish_build returned
    warnings: List[str] = field(default_factory=list)


def torch_compatibility_warning(manifest_path: str, target_key: str) -> Optional[str]:
    """Warns when the manifest does not list the target Nuke's torch among those the build loads in.

    A build made by this exporter names them (`compatible_torch`); one from before that field existed is judged
    by the torch that made it, which must then be no newer than the target's.
    """
    target = TORCH_TARGETS_BY_KEY.get(target_key)
    if target is None:
        return None
    try:
        with open(manifest_path, "r", encoding="utf-8") as handle:
            manifest = json.load(handle)
        used = str(manifest.get("torch_version", ""))
        compatible = [version_tuple(v)[:3] for v in manifest.get("compatible_torch") or []]
    except (OSError, ValueError, AttributeError, TypeError):
        return None
    if compatible:
        if version_tuple(target.torch)[:3] in compatible:
            return None
    elif not used or version_tuple(used)[:2] <= target.torch_tuple:
        return None
    return ("This model (exported with torch %s) is not known to load in the torch %s inside %s. Rebuild it "
            "with this version of the plugin, whose exports load in every supported Nuke." % (
                used or "unknown", target.torch, target.nuke))


def default_finish(pt: str, manifest: str, install_dir: str) -> Any:
    """The Nuke-side last step (nuke_plugin.finish_build), imported only when a build gets that far."""
    from . import finish_build

    export_dir = os.path.dirname(os.path.abspath(pt))
    return finish_build.finish_build(export_dir, install_dir=install_dir or None, drop=True)


class BuildJob:
    """One background build. `start()` returns at once; `thread` ends when everything is done."""

    def __init__(self, request: BuildRequest, nuke_module: Any = None, finish: Optional[FinishFunction] = None,
                 root: Optional[str] = None, grace: float = 10.0) -> None:
        if nuke_module is None:
            import nuke as nuke_module  # noqa: F811 - only inside Nuke (or a test's fake)
        self.nuke = nuke_module
        self.request = request
        self.finish = finish or default_finish
        self.root = root
        self.grace = grace
        self.result = None  # type: Optional[BuildResult]
        self.thread = threading.Thread(target=self._run, name="CorridorKey Build Model", daemon=True)

    def start(self) -> "BuildJob":
        self.thread.start()
        return self

    def is_running(self) -> bool:
        return self.thread.is_alive()

    # ---- worker thread ------------------------------------------------------------------------------------------

    def _run(self) -> None:
        nuke = self.nuke
        task = nuke.ProgressTask(PROGRESS_TITLE)
        try:
            self.result = self._build(task)
        except Exception as exc:  # a bug must still reach the artist, not vanish in a thread
            self.result = BuildResult(export_runner.FAILED, "CorridorKey Build Model failed unexpectedly: %s: %s"
                                      % (type(exc).__name__, exc))
            nuke.executeInMainThread(nuke.message, args=(self.result.message,))
        finally:
            del task  # Nuke closes the progress bar when the task object goes away

    def _build(self, task: Any) -> BuildResult:
        nuke = self.nuke
        request = self.request
        task.setMessage("Starting the export (%s)" % request.python)
        task.setProgress(0)

        def on_event(event: dict) -> None:
            if event.get("event") == "stage":
                task.setProgress(int(max(0.0, min(1.0, float(event.get("progress", 0.0)))) * EXPORT_SHARE))
                task.setMessage(str(event.get("message", "")))

        outcome = export_runner.run_export(request.python, request.checkpoint, request.output_pt,
                                           request.resolution, on_event, task.isCancelled, root=self.root,
                                           grace=self.grace, extra=export_runner.target_args(request.torch_target))
        if outcome.status == export_runner.CANCELLED:
            return BuildResult(outcome.status, "Build Model cancelled. " + outcome.message, outcome)
        if outcome.status == export_runner.FAILED:
            text = "CorridorKey export failed:\n\n%s" % outcome.message
            nuke.executeInMainThread(nuke.message, args=(text,))
            return BuildResult(outcome.status, text, outcome)

        task.setProgress(EXPORT_SHARE)
        task.setMessage("Building the .cat and installing the CorridorKey node")
        notes = []
        warning = torch_compatibility_warning(str(outcome.manifest), request.torch_target)
        if warning:
            notes.append(warning)
        finished = nuke.executeInMainThreadWithResult(self._finish_on_main_thread,
                                                      args=(str(outcome.pt), str(outcome.manifest), notes))
        task.setProgress(100)
        ok, message, value = finished
        return BuildResult(export_runner.DONE if ok else export_runner.FAILED, message, outcome, value, notes)

    # ---- main thread ----------------------------------------------------------------------------------------------

    def _finish_on_main_thread(self, pt: str, manifest: str, notes: List[str]) -> Any:
        """Runs on Nuke's main thread: the .cat, the gizmo, the node; errors become a message, not a crash."""
        nuke = self.nuke
        try:
            value = self.finish(pt, manifest, self.request.install_dir)
        except BuildDeclined as exc:  # the artist kept the existing build: nothing to report as an error
            return False, "Nothing changed: %s" % exc, None
        except CorridorKeyError as exc:
            text = "CorridorKey: the model was exported (%s) but building the node failed:\n\n%s" % (pt, exc)
            nuke.message(text)
            return False, text, None
        except Exception as exc:  # a bug: still tell the artist, with the type for the report
            text = ("CorridorKey: the model was exported (%s) but building the node failed unexpectedly:\n\n%s: %s"
                    % (pt, type(exc).__name__, exc))
            nuke.message(text)
            return False, text, None
        if notes:
            nuke.message("CorridorKey built, with a warning:\n\n" + "\n\n".join(notes))
        return True, "CorridorKey built from %s" % pt, value


# ---- the menu entry ---------------------------------------------------------------------------------------------------

_active_job = None  # type: Optional[BuildJob]


def _main_window() -> Any:
    from .qt_compat import QtWidgets

    app = QtWidgets.QApplication.instance()
    return app.activeWindow() if app is not None else None


def _initial_settings(nuke: Any) -> Settings:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        settings = load_settings()
    for warning in caught:
        nuke.warning(str(warning.message))
    first_time = not os.path.exists(settings_path())
    if first_time and not settings.is_locked("torch_target"):
        settings.torch_target = torch_target_for_nuke(int(nuke.NUKE_VERSION_MAJOR), int(nuke.NUKE_VERSION_MINOR)).key
    return settings


def start_build(request: BuildRequest, nuke_module: Any = None, **kwargs: Any) -> BuildJob:
    """Starts a background build (one at a time)."""
    global _active_job
    _active_job = BuildJob(request, nuke_module, **kwargs).start()
    return _active_job


def open_build_dialog() -> Optional[BuildJob]:
    """The CorridorKey > Build Model menu command."""
    import nuke

    if not nuke.env["nukex"]:
        nuke.message("Build Model needs NukeX or Nuke Studio: it uses the CatFileCreator node. Plain Nuke can use a "
                     "CorridorKey node built elsewhere (see CorridorKey > Help and About).")
        return None
    if _active_job is not None and _active_job.is_running():
        nuke.message("A CorridorKey build is already running (see its progress bar).")
        return None
    try:
        from . import dialogs
        from .qt_compat import QtWidgets, exec_dialog
    except ImportError as exc:
        nuke.message("CorridorKey: %s" % exc)
        return None
    settings = _initial_settings(nuke)
    dialog = dialogs.BuildModelDialog(settings, parent=_main_window())
    if exec_dialog(dialog) != QtWidgets.QDialog.Accepted:
        return None
    chosen = dialog.settings()
    try:
        save_settings(chosen)
    except OSError as exc:
        nuke.warning("CorridorKey: could not save settings to %s: %s" % (settings_path(), exc))
    python = dialog.probe_result.python if dialog.probe_result else env_probe.locate_interpreter(chosen)[0]
    return start_build(BuildRequest.from_settings(chosen, python or ""), nuke)


def open_help() -> None:
    """The CorridorKey > Help and About menu command."""
    import nuke

    try:
        from . import dialogs
        from .qt_compat import exec_dialog
    except ImportError as exc:
        nuke.message("CorridorKey: %s" % exc)
        return
    exec_dialog(dialogs.AboutDialog(_main_window()))
