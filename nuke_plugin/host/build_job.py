"""The Build Model job, once the artist pressed Build: background export -> .cat, gizmo and node.

Why this shape: the export takes minutes, so it runs in a worker thread, reported through a nuke.ProgressTask
whose Cancel ends the exporter (nothing partial is left, a previous build stays). Nuke allows node creation and
dialogs only on the main thread, so the worker hands the last step (`host.finish.finish_build`: build the .cat with
CatFileCreator, install the gizmo, drop the node) and every message to the main thread with
nuke.executeInMainThread[WithResult] - never calling those from the main thread itself, where Nuke would hang.
Foundry's executeInMainThreadWithResult does not re-raise: it prints the call's exception and returns None, so the
main-thread step turns its errors into results, and a None (what escaped it) still ends the build as failed.
The dialog that makes the request is nuke_plugin.ui.commands; the UI hands in `on_installed` (its toolbar entry).

`nuke` is imported inside functions only, so this module imports (and is testable) without Nuke.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from .. import contract
from ..contract import progress
from ..contract.files import read_json
from ..contract.torch_targets import TORCH_TARGETS_BY_KEY, version_tuple
from ..core.compatibility import target_problem
from ..core.errors import BuildDeclined, CorridorKeyError
from ..core.manifest import MANIFEST_SIZE_LIMIT
from ..core.settings import Settings
from ..runner import exporter_client, process
from .edition import running_nuke

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
    status: str                       # process.DONE / FAILED / CANCELLED
    message: str
    export: Optional[process.CommandOutcome] = None
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
        manifest = read_json(manifest_path, MANIFEST_SIZE_LIMIT)
        used = manifest.get("torch_version", "")
        listed = manifest.get("compatible_torch") or []
        if not isinstance(used, str) or not isinstance(listed, list) or any(
                not isinstance(v, str) or len(v) > 64 for v in listed + [used]):
            return None  # finish_build's reader refuses such a manifest and says why
        compatible = [version_tuple(v)[:3] for v in listed]
    except (OSError, ValueError, AttributeError):  # finish_build's reader says what is wrong
        return None
    if compatible:
        if version_tuple(target.torch)[:3] in compatible:
            return None
    elif not used or version_tuple(used)[:2] <= target.torch_tuple:
        return None
    return ("This model (exported with torch %s) is not known to load in the torch %s inside %s. Rebuild it "
            "with this version of the plugin, whose exports load in every supported Nuke." % (
                used or "unknown", target.torch, target.nuke))


def default_finish(pt: str, manifest: str, install_dir: str,
                   on_installed: Optional[Callable[[], Any]] = None) -> Any:
    """The Nuke-side last step (host.finish), imported only when a build gets that far."""
    from .finish import finish_build

    export_dir = os.path.dirname(os.path.abspath(pt))
    return finish_build(export_dir, install_dir=install_dir or None, drop=True, on_installed=on_installed)


class BuildJob:
    """One background build. `start()` returns at once; `thread` ends when everything is done."""

    def __init__(self, request: BuildRequest, nuke_module: Any = None, finish: Optional[FinishFunction] = None,
                 root: Optional[str] = None, grace: float = 10.0,
                 on_installed: Optional[Callable[[], Any]] = None) -> None:
        """`finish(pt, manifest, install_dir)` is the main-thread last step (default: host.finish with
        `on_installed`, which runs once the node is installed)."""
        if nuke_module is None:
            import nuke  # only inside Nuke (or a test's fake)

            nuke_module = nuke
        self.nuke = nuke_module
        self.request = request
        self.on_installed = on_installed
        self.finish: FinishFunction = finish or self._default_finish
        self.root = root
        self.grace = grace
        self.result: Optional[BuildResult] = None
        self.thread = threading.Thread(target=self._run, name="CorridorKey Build Model", daemon=True)

    def _default_finish(self, pt: str, manifest: str, install_dir: str) -> Any:
        return default_finish(pt, manifest, install_dir, self.on_installed)

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
            self.result = BuildResult(process.FAILED, "CorridorKey Build Model failed unexpectedly: %s: %s"
                                      % (type(exc).__name__, exc))
            nuke.executeInMainThread(nuke.message, args=(self.result.message,))
        finally:
            del task  # Nuke closes the progress bar when the task object goes away

    def _build(self, task: Any) -> BuildResult:
        nuke = self.nuke
        request = self.request
        problem = target_problem(request.torch_target, *running_nuke(nuke))
        if problem:  # before minutes of export: this Nuke could not install what it would make
            text = "CorridorKey Build Model: %s" % problem
            nuke.executeInMainThread(nuke.message, args=(text,))
            return BuildResult(process.FAILED, text)
        task.setMessage("Starting the export (%s)" % request.python)
        task.setProgress(0)

        def on_event(event: Dict[str, Any]) -> None:
            if event.get("event") == progress.STAGE:
                task.setProgress(int(max(0.0, min(1.0, float(event.get("progress", 0.0)))) * EXPORT_SHARE))
                task.setMessage(progress.stage_text(event))

        outcome = exporter_client.run_export(
            request.python, request.checkpoint, request.output_pt, request.resolution, on_event,
            is_cancelled=task.isCancelled, root=self.root, grace=self.grace,
            extra=exporter_client.target_args(request.torch_target))
        if outcome.status == process.CANCELLED:
            return BuildResult(outcome.status, "Build Model cancelled. " + outcome.message, outcome)
        if outcome.status == process.FAILED:
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
        if finished is None:
            # Nuke's executeInMainThreadWithResult prints an exception the call let through and returns None.
            text = ("CorridorKey: the model was exported (%s) but building the node stopped on Nuke's main thread. "
                    "The error is in the Script Editor (or the terminal Nuke was started from)." % outcome.pt)
            nuke.executeInMainThread(nuke.message, args=(text,))
            return BuildResult(process.FAILED, text, outcome, None, notes)
        ok, message, value = finished
        return BuildResult(process.DONE if ok else process.FAILED, message, outcome, value, notes)

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


_active_job: Optional[BuildJob] = None


def start_build(request: BuildRequest, nuke_module: Any = None, **kwargs: Any) -> BuildJob:
    """Starts a background build (one at a time: see build_running)."""
    global _active_job
    _active_job = BuildJob(request, nuke_module, **kwargs).start()
    return _active_job


def build_running() -> bool:
    return _active_job is not None and _active_job.is_running()
