"""The Build Model dialog's export-environment panel: which Python runs the exporter, whether it is ready, and
Set up (create it) with its progress.

Why the work runs in threads: checking an interpreter imports torch (seconds) and setting up an environment
downloads gigabytes (minutes); both run in worker threads and report back through Qt signals, which Qt delivers
on the UI thread, so Nuke never freezes.
"""
from __future__ import annotations

import threading
from typing import Callable, List, Optional, Sequence, Tuple

from ..contract.torch_targets import cpu_only_offered
from ..core.paths import same_path
from ..core.settings import Settings
from ..runner import env_probe, env_setup, process
from .qt_compat import QtCore, QtWidgets, Signal
from .widgets import lock, note_label, row

ProbeFunction = Callable[[Settings], env_probe.ProbeResult]
PlanFunction = Callable[[Settings], Sequence[env_setup.Step]]


def default_plan(settings: Settings) -> List[env_setup.Step]:
    """Set up's commands for the chosen target: uv if present, else a suitable Python with venv + pip."""
    target = settings.target
    uv = env_setup.find_uv()
    base = None if uv else (env_setup.find_base_python(target) or process.current_python())
    return env_setup.plan_environment(settings.resolved_env_dir(), target, uv=uv, base_python=base,
                                      cpu_only=settings.cpu_only_torch)


class _Relay(QtCore.QObject):
    """Carries results from worker threads to the UI thread (signals are queued across threads)."""

    probe_done = Signal(object)
    setup_message = Signal(str, float)
    setup_done = Signal(object)


class EnvironmentPanel(QtWidgets.QWidget):
    """Export Python field with Browse / Check / Set up, its status, and Set up's progress.

    `settings_fn` returns the dialog's current choices (the target Nuke decides what Set up installs).
    """

    setup_running_changed = Signal(bool)

    def __init__(self, settings_fn: Callable[[], Settings], probe: Optional[ProbeFunction] = None,
                 plan: Optional[PlanFunction] = None, confirm: Optional[Callable[[str, str], bool]] = None,
                 parent: Optional[QtWidgets.QWidget] = None) -> None:
        super().__init__(parent)
        self._settings_fn = settings_fn
        self._probe_fn = probe or (lambda s: env_probe.check_environment(s))
        self._plan_fn = plan or default_plan
        self._confirm_fn = confirm or self._ask
        self.probe_result: Optional[env_probe.ProbeResult] = None
        self.probing = False
        self._probe_serial = 0
        self._setup_cancel = threading.Event()
        self.setup_running = False
        self._recreate = False  # what the Set up button offers now: create, or recreate the one in use
        self.setup_outcome: Optional[process.CommandOutcome] = None
        self.relay = _Relay(self)
        self.relay.probe_done.connect(self._on_probe_done)
        self.relay.setup_message.connect(self._on_setup_message)
        self.relay.setup_done.connect(self._on_setup_done)

        form = QtWidgets.QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setVerticalSpacing(6)
        self.python_edit = QtWidgets.QLineEdit()
        self.python_edit.setPlaceholderText("automatic: the CorridorKey environment")
        self.python_edit.editingFinished.connect(self.check_interpreter)
        self.python_browse = QtWidgets.QPushButton("Browse...")
        self.python_browse.clicked.connect(self._browse_python)
        self.check_button = QtWidgets.QPushButton("Check")
        self.check_button.clicked.connect(self.check_interpreter)
        self.setup_button = QtWidgets.QPushButton("Set up...")
        self.setup_button.clicked.connect(self.start_setup)
        form.addRow("Export Python", row(self.python_edit, self.python_browse, self.check_button,
                                         self.setup_button))
        self.python_status = note_label("not checked")
        self.python_status.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        form.addRow("", self.python_status)
        self.setup_note = note_label()
        self.setup_note.setStyleSheet("color: gray;")
        form.addRow("", self.setup_note)
        self.cpu_only = QtWidgets.QCheckBox("Set up with the CPU-only torch (much smaller download)")
        self.cpu_only.setToolTip("The export runs on the CPU (Nuke's own torch renders the node), so a machine "
                                 "without an NVIDIA GPU does not need the CUDA libraries of PyPI's torch.")
        self.cpu_only.toggled.connect(lambda checked: self._show_setup_button(self._recreate))
        self.cpu_only.setVisible(cpu_only_offered())
        form.addRow("", self.cpu_only)
        self.setup_progress = QtWidgets.QProgressBar()
        self.setup_progress.setRange(0, 100)
        self.setup_progress.hide()
        self.setup_cancel = QtWidgets.QPushButton("Stop set-up")
        self.setup_cancel.clicked.connect(self._setup_cancel.set)
        self.setup_cancel.hide()
        form.addRow("", row(self.setup_progress, self.setup_cancel))

    def load(self, s: Settings) -> None:
        self.python_edit.setText(s.python)
        self.cpu_only.setChecked(s.cpu_only_torch)
        self._show_setup_button(recreate=False)
        if s.is_locked("python"):
            lock(s, "python", (self.python_edit, self.python_browse, self.setup_button))
        if s.is_locked("cpu_only_torch"):
            lock(s, "cpu_only_torch", (self.cpu_only,))

    def apply_to(self, s: Settings) -> None:
        s.python = self.python_edit.text().strip()
        s.cpu_only_torch = self.cpu_only.isChecked()

    def _set_status(self, text: str) -> None:
        self.python_status.setText(text)

    def _show_setup_button(self, recreate: bool) -> None:
        """"Set up..." creates the target's environment; "Recreate..." when that very environment is the one in
        use and ready (running Set up again repairs it). The note under the status says what a click does."""
        settings = self._settings_fn()
        env_dir = settings.resolved_env_dir()
        target = settings.target
        self._recreate = recreate
        self.setup_button.setText("Recreate..." if recreate else "Set up...")
        if recreate:
            explanation = ("Recreate... runs Set up again on %s: it puts back the pinned torch %s, torchvision, "
                           "timm and numpy for %s if any were changed or removed. Your checkpoint, settings and "
                           "builds are kept." % (env_dir, target.torch, target.nuke))
        else:
            explanation = ("Set up... creates %s with torch %s on Python %s, as inside %s (%s)."
                           % (env_dir, target.torch, target.python_text, target.nuke,
                              env_setup.download_note(target, cpu_only=settings.cpu_only_torch)))
        self.setup_button.setToolTip(explanation)
        self.setup_note.setText(explanation)
        if settings.is_locked("python"):
            self.setup_button.setToolTip("Set by %s (your studio's setting)" % settings.overrides["python"])

    def _browse_python(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Python with torch and timm", self.python_edit.text())
        if path:
            self.python_edit.setText(path)
            self.check_interpreter()

    # ---- interpreter check (worker thread) ------------------------------------------------------------------------

    def check_interpreter(self) -> None:
        """Probes the interpreter in the background; the newest request wins if several overlap."""
        self._probe_serial += 1
        serial = self._probe_serial
        settings = self._settings_fn()
        self.probing = True
        self.probe_result = None
        self._set_status("Checking the export Python...")

        def work():
            try:
                result = self._probe_fn(settings)
            except Exception as exc:  # never leave the dialog waiting forever
                result = env_probe.ProbeResult(python=settings.python, problems=["check failed: %s" % exc])
            self.relay.probe_done.emit((serial, result))

        threading.Thread(target=work, name="CorridorKey probe", daemon=True).start()

    def _on_probe_done(self, payload: Tuple[int, env_probe.ProbeResult]) -> None:
        serial, result = payload
        if serial != self._probe_serial:
            return
        self.probing = False
        self.probe_result = result
        settings = self._settings_fn()
        own_env = env_probe.venv_python(settings.resolved_env_dir())
        in_use = bool(result.python) and same_path(result.python, own_env)
        self._show_setup_button(recreate=in_use and result.ok and not result.warnings)
        self._set_status(result.report())

    # ---- environment set-up (worker thread) -----------------------------------------------------------------------

    def _ask(self, title: str, text: str) -> bool:
        answer = QtWidgets.QMessageBox.question(self, title, text,
                                                QtWidgets.QMessageBox.Yes | QtWidgets.QMessageBox.No)
        return answer == QtWidgets.QMessageBox.Yes

    def start_setup(self) -> None:
        if self.setup_running:
            return
        settings = self._settings_fn()
        try:
            steps = list(self._plan_fn(settings))
        except ValueError as exc:
            self._set_status("Cannot set up the environment: %s" % exc)
            return
        env_dir = settings.resolved_env_dir()
        size = env_setup.download_note(settings.target, cpu_only=settings.cpu_only_torch)
        text = ("Create the export environment for %s in\n%s\n\nThis downloads torch %s (%s) and runs:\n\n%s"
                % (settings.target.nuke, env_dir, settings.target.torch, size, env_setup.describe_plan(steps)))
        if not self._confirm_fn("Set up the CorridorKey environment", text):
            return
        self.setup_running = True
        self.setup_outcome = None
        self._setup_cancel.clear()
        self.setup_progress.setValue(0)
        self.setup_progress.show()
        self.setup_cancel.show()
        self.setup_button.setEnabled(False)
        self.setup_running_changed.emit(True)

        def work():
            try:
                outcome = env_setup.run_plan(steps, env_dir, self.relay.setup_message.emit, self._setup_cancel.is_set)
            except Exception as exc:
                outcome = process.CommandOutcome(process.FAILED, "Set up failed: %s" % exc)
            self.relay.setup_done.emit(outcome)

        threading.Thread(target=work, name="CorridorKey set-up", daemon=True).start()

    def stop_setup(self) -> None:
        self._setup_cancel.set()

    def _on_setup_message(self, text: str, fraction: float) -> None:
        self.setup_progress.setValue(int(round(fraction * 100)))
        self._set_status(text)

    def _on_setup_done(self, outcome: process.CommandOutcome) -> None:
        self.setup_running = False
        self.setup_outcome = outcome
        self.setup_progress.hide()
        self.setup_cancel.hide()
        self.setup_button.setEnabled(not self._settings_fn().is_locked("python"))
        self.setup_running_changed.emit(False)
        if outcome.ok:
            self.check_interpreter()
        else:
            self._set_status(outcome.message)
