"""The Build Model dialog (Qt through qt_compat; no `nuke` import, so it is testable offscreen). The help window
is ui.help; the menu command that opens this dialog and starts the build is ui.commands.

Why it is made of panels: the model fields (ui.build_fields) and the export-environment panel (ui.env_panel,
which checks and sets up the interpreter in worker threads) are small widgets of their own; this class only
composes them, says what stops a build, and sizes itself so that every wrapped note is shown whole. It only
collects choices; nuke_plugin.host.build_job runs the build.
"""
from __future__ import annotations

import copy
import os
from typing import Callable, List, Optional

from ..contract import resolution_problem
from ..core.settings import Settings
from .build_fields import ModelFields
from .env_panel import EnvironmentPanel, PlanFunction, ProbeFunction
from .help import AboutDialog
from .qt_compat import QtWidgets, exec_dialog
from .widgets import align_label_columns, note_label

DEFAULT_WIDTH = 680


class BuildModelDialog(QtWidgets.QDialog):
    """Model fields, export environment, what stops a build, and Build / Cancel / About."""

    def __init__(self, settings: Settings, probe: Optional[ProbeFunction] = None,
                 plan: Optional[PlanFunction] = None, confirm: Optional[Callable[[str, str], bool]] = None,
                 parent: Optional[QtWidgets.QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("CorridorKeyBuildModel")
        self.setWindowTitle("CorridorKey - Build Model")
        self._settings = copy.deepcopy(settings)
        self.fields = ModelFields()
        self.environment = EnvironmentPanel(self.settings, probe, plan, confirm)
        self.problems_label = note_label()
        self.problems_label.setStyleSheet("color: #e06c5a;")
        self.buttons = QtWidgets.QDialogButtonBox()
        self.build_button = self.buttons.addButton("Build", QtWidgets.QDialogButtonBox.AcceptRole)
        self.cancel_button = self.buttons.addButton(QtWidgets.QDialogButtonBox.Cancel)
        self.help_button = self.buttons.addButton("About / Help", QtWidgets.QDialogButtonBox.HelpRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.help_button.clicked.connect(self.show_help)

        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.fields)
        layout.addWidget(self.environment)
        layout.addWidget(self.problems_label)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.resize(DEFAULT_WIDTH, 0)
        self.setMinimumWidth(DEFAULT_WIDTH)

        align_label_columns(self.fields.layout(), self.environment.layout())
        self.fields.load(self._settings)
        self.environment.load(self._settings)
        self.fields.target_changed.connect(self.environment.check_interpreter)
        self.environment.setup_running_changed.connect(lambda running: self.build_button.setEnabled(not running))
        self.environment.check_interpreter()

    def settings(self) -> Settings:
        """The dialog's choices as Settings (locked fields keep the environment's values)."""
        s = copy.deepcopy(self._settings)
        self.fields.apply_to(s)
        self.environment.apply_to(s)
        return s

    # ---- build ----------------------------------------------------------------------------------------------------

    def problems(self) -> List[str]:
        """What stops a build now, one sentence each with what to do."""
        s = self.settings()
        env = self.environment
        found = []
        if not s.checkpoint:
            found.append("Choose the CorridorKey checkpoint (.pth).")
        elif not os.path.isfile(s.checkpoint):
            found.append("The checkpoint %s does not exist." % s.checkpoint)
        problem = resolution_problem(s.resolution)
        if problem:
            found.append("Model " + problem + ".")
        if not s.target.supported:
            found.append(s.target.note)
        if env.setup_running:
            found.append("Wait for the environment set-up to finish.")
        elif env.probing:
            found.append("Still checking the export Python; try again in a moment.")
        elif env.probe_result is not None and not env.probe_result.ok:
            # Its problems and their fix are in the status above: named once, there, not repeated here.
            found.append("The export Python is not ready: see its status above for why and what fixes it.")
        return found

    def accept(self) -> None:
        found = self.problems()
        self.problems_label.setText("\n".join(found))
        if not found:
            super().accept()

    def reject(self) -> None:
        self.environment.stop_setup()  # closing the dialog stops a running set-up
        super().reject()

    def show_help(self) -> None:
        exec_dialog(AboutDialog(self))
