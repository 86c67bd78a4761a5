"""The CorridorKey menu's commands that open windows: Build Model (dialog -> background build job) and Help.

Qt is imported only when a command runs, so a broken Qt set-up cannot stop Nuke from starting.
"""
from __future__ import annotations

import os
import warnings
from typing import Any, Callable, Optional

from ..contract.torch_targets import torch_target_for_nuke
from ..core.cattery import resolve_install_dir, studio_root
from ..core.settings import Settings, load_settings, save_settings, settings_path
from ..core.staging import install_folder_problem
from ..host import build_job
from ..host.edition import EDITION_MESSAGE, cat_files_supported
from ..runner import env_probe


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


def install_problem(settings: Settings) -> Optional[str]:
    """Why the chosen install folder cannot take the build (a studio folder this artist may not write, say), told
    before the minutes-long export; None when it can."""
    return install_folder_problem(resolve_install_dir(settings.install_dir), studio=studio_root())


def open_build_dialog(on_installed: Optional[Callable[[], Any]] = None) -> Optional[build_job.BuildJob]:
    """The CorridorKey > Build Model menu command. `on_installed` runs on the main thread once a build installed
    the node (the menu passes its Nodes-toolbar registration)."""
    import nuke

    if not cat_files_supported():
        nuke.message(EDITION_MESSAGE)
        return None
    if build_job.build_running():
        nuke.message("A CorridorKey build is already running (see its progress bar).")
        return None
    try:
        from .build_dialog import BuildModelDialog
        from .qt_compat import QtWidgets, exec_dialog
    except ImportError as exc:
        nuke.message("CorridorKey: %s" % exc)
        return None
    settings = _initial_settings(nuke)
    dialog = BuildModelDialog(settings, parent=_main_window())
    if exec_dialog(dialog) != QtWidgets.QDialog.Accepted:
        return None
    chosen = dialog.settings()
    try:
        save_settings(chosen)
    except OSError as exc:
        nuke.warning("CorridorKey: could not save settings to %s: %s" % (settings_path(), exc))
    problem = install_problem(chosen)
    if problem:
        nuke.message("CorridorKey: " + problem)
        return None
    probed = dialog.environment.probe_result
    python = probed.python if probed else env_probe.locate_interpreter(chosen)[0]
    request = build_job.BuildRequest.from_settings(chosen, python or "")
    return build_job.start_build(request, nuke, on_installed=on_installed)


def open_help() -> None:
    """The CorridorKey > Help and About menu command."""
    import nuke

    try:
        from .help import AboutDialog
        from .qt_compat import exec_dialog
    except ImportError as exc:
        nuke.message("CorridorKey: %s" % exc)
        return
    exec_dialog(AboutDialog(_main_window()))
