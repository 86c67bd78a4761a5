"""Build Model and About / Help dialogs (Qt through qt_compat; no `nuke` import, so they are testable offscreen).

Why the dialog never blocks: checking an interpreter imports torch (seconds) and setting up an environment
downloads gigabytes (minutes), so both run in worker threads and report back through Qt signals, which Qt
delivers on the UI thread. The dialog only collects choices; build_model.py runs the build.
"""
from __future__ import annotations

import copy
import os
import threading
from typing import Callable, List, Optional, Sequence

from . import contract, env_probe, env_setup, export_runner
from .gizmo import HINT_CHANNEL, OUTPUT_MODE, TOGGLES
from .knob_spec import GAMMA_INPUT, KNOBS
from .qt_compat import QtCore, QtWidgets, Signal, exec_dialog
from .settings import RESOLUTIONS, RESOLUTIONS_BY_VALUE, Settings, resolution_problem
from .torch_targets import TORCH_TARGETS, TORCH_TARGETS_BY_KEY

ProbeFunction = Callable[[Settings], env_probe.ProbeResult]
PlanFunction = Callable[[Settings], Sequence[env_setup.Step]]


def default_plan(settings: Settings) -> List[env_setup.Step]:
    """Set up's commands for the chosen target: uv if present, else a suitable Python with venv + pip."""
    target = settings.target
    uv = env_setup.find_uv()
    base = None if uv else (env_setup.find_base_python(target) or export_runner.current_python())
    return env_setup.plan_environment(settings.resolved_env_dir(), target, uv=uv, base_python=base)


class _Relay(QtCore.QObject):
    """Carries results from worker threads to the UI thread (signals are queued across threads)."""

    probe_done = Signal(object)
    setup_message = Signal(str, float)
    setup_done = Signal(object)


class BuildModelDialog(QtWidgets.QDialog):
    """Checkpoint, resolution, target Nuke, install folder, export interpreter (with Check / Set up), Build."""

    def __init__(self, settings: Settings, probe: Optional[ProbeFunction] = None,
                 plan: Optional[PlanFunction] = None, confirm: Optional[Callable[[str, str], bool]] = None,
                 parent: Optional[QtWidgets.QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("CorridorKeyBuildModel")
        self.setWindowTitle("CorridorKey - Build Model")
        self._settings = copy.deepcopy(settings)
        self._probe_fn = probe or (lambda s: env_probe.check_environment(s))
        self._plan_fn = plan or default_plan
        self._confirm_fn = confirm or self._ask
        self.probe_result = None  # type: Optional[env_probe.ProbeResult]
        self.probing = False
        self._probe_serial = 0
        self._setup_cancel = threading.Event()
        self.setup_running = False
        self.setup_outcome = None  # type: Optional[export_runner.CommandOutcome]
        self._relay = _Relay(self)
        self._relay.probe_done.connect(self._on_probe_done)
        self._relay.setup_message.connect(self._on_setup_message)
        self._relay.setup_done.connect(self._on_setup_done)
        self._build_ui()
        self._load(self._settings)
        self.check_interpreter()

    # ---- layout -------------------------------------------------------------------------------------------------

    def _build_ui(self) -> None:
        form = QtWidgets.QFormLayout()

        self.checkpoint_edit = QtWidgets.QLineEdit()
        self.checkpoint_edit.setPlaceholderText("CorridorKey_v1.0.pth (download it from the CorridorKey project)")
        self.checkpoint_browse = QtWidgets.QPushButton("Browse...")
        self.checkpoint_browse.clicked.connect(self._browse_checkpoint)
        form.addRow("Checkpoint", self._row(self.checkpoint_edit, self.checkpoint_browse))

        self.resolution_combo = QtWidgets.QComboBox()
        for choice in RESOLUTIONS:
            self.resolution_combo.addItem(choice.label, choice.value)
        self.resolution_cost = QtWidgets.QLabel()
        self.resolution_cost.setWordWrap(True)
        self.resolution_combo.currentIndexChanged.connect(self._show_resolution_cost)
        form.addRow("Model resolution", self.resolution_combo)
        form.addRow("", self.resolution_cost)

        self.target_combo = QtWidgets.QComboBox()
        for target in TORCH_TARGETS:
            self.target_combo.addItem(target.label, target.key)
            if not target.supported:
                item = self.target_combo.model().item(self.target_combo.count() - 1)
                item.setEnabled(False)
        self.target_note = QtWidgets.QLabel()
        self.target_note.setWordWrap(True)
        self.target_combo.currentIndexChanged.connect(self._target_changed)
        form.addRow("Target Nuke", self.target_combo)
        form.addRow("", self.target_note)

        self.install_edit = QtWidgets.QLineEdit()
        self.install_edit.setPlaceholderText("default: the CorridorKey folder in your .nuke")
        self.install_browse = QtWidgets.QPushButton("Browse...")
        self.install_browse.clicked.connect(self._browse_install)
        form.addRow("Install folder", self._row(self.install_edit, self.install_browse))

        self.python_edit = QtWidgets.QLineEdit()
        self.python_edit.setPlaceholderText("automatic: the CorridorKey environment")
        self.python_edit.editingFinished.connect(self.check_interpreter)
        self.python_browse = QtWidgets.QPushButton("Browse...")
        self.python_browse.clicked.connect(self._browse_python)
        self.check_button = QtWidgets.QPushButton("Check")
        self.check_button.clicked.connect(self.check_interpreter)
        self.setup_button = QtWidgets.QPushButton("Set up...")
        self.setup_button.setToolTip("Create a Python environment with the target Nuke's torch, torchvision and timm")
        self.setup_button.clicked.connect(self.start_setup)
        form.addRow("Export Python", self._row(self.python_edit, self.python_browse, self.check_button,
                                               self.setup_button))
        self.python_status = QtWidgets.QLabel("not checked")
        self.python_status.setWordWrap(True)
        self.python_status.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        form.addRow("", self.python_status)
        self.setup_progress = QtWidgets.QProgressBar()
        self.setup_progress.setRange(0, 100)
        self.setup_progress.hide()
        self.setup_cancel = QtWidgets.QPushButton("Stop set-up")
        self.setup_cancel.clicked.connect(self._setup_cancel.set)
        self.setup_cancel.hide()
        form.addRow("", self._row(self.setup_progress, self.setup_cancel))

        self.problems_label = QtWidgets.QLabel()
        self.problems_label.setWordWrap(True)
        self.problems_label.setStyleSheet("color: #e06c5a;")

        self.buttons = QtWidgets.QDialogButtonBox()
        self.build_button = self.buttons.addButton("Build", QtWidgets.QDialogButtonBox.AcceptRole)
        self.cancel_button = self.buttons.addButton(QtWidgets.QDialogButtonBox.Cancel)
        self.help_button = self.buttons.addButton("About / Help", QtWidgets.QDialogButtonBox.HelpRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.help_button.clicked.connect(self.show_help)

        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problems_label)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(640)

    @staticmethod
    def _row(*widgets: QtWidgets.QWidget) -> QtWidgets.QWidget:
        holder = QtWidgets.QWidget()
        row = QtWidgets.QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        for i, widget in enumerate(widgets):
            row.addWidget(widget, 1 if i == 0 else 0)
        return holder

    # ---- values ---------------------------------------------------------------------------------------------------

    def _load(self, s: Settings) -> None:
        self.checkpoint_edit.setText(s.checkpoint)
        index = self.resolution_combo.findData(s.resolution)
        if index < 0:  # a TD's custom size from the environment or the file
            self.resolution_combo.addItem("%d  (custom)" % s.resolution, s.resolution)
            index = self.resolution_combo.count() - 1
        self.resolution_combo.setCurrentIndex(index)
        self.target_combo.setCurrentIndex(max(0, self.target_combo.findData(s.torch_target)))
        self.install_edit.setText(s.install_dir)
        self.python_edit.setText(s.python)
        self._show_resolution_cost()
        self._show_target_note()
        for name, widgets in (("checkpoint", (self.checkpoint_edit, self.checkpoint_browse)),
                              ("resolution", (self.resolution_combo,)), ("torch_target", (self.target_combo,)),
                              ("install_dir", (self.install_edit, self.install_browse)),
                              ("python", (self.python_edit, self.python_browse, self.setup_button))):
            if s.is_locked(name):
                for widget in widgets:
                    widget.setEnabled(False)
                    widget.setToolTip("Set by %s (your studio's setting)" % s.overrides[name])

    def settings(self) -> Settings:
        """The dialog's choices as Settings (locked fields keep the environment's values)."""
        s = copy.deepcopy(self._settings)
        s.checkpoint = self.checkpoint_edit.text().strip()
        s.resolution = int(self.resolution_combo.currentData())
        s.torch_target = str(self.target_combo.currentData())
        s.install_dir = self.install_edit.text().strip()
        s.python = self.python_edit.text().strip()
        return s

    def _show_resolution_cost(self) -> None:
        value = self.resolution_combo.currentData()
        choice = RESOLUTIONS_BY_VALUE.get(int(value)) if value is not None else None
        self.resolution_cost.setText(choice.cost if choice else "Custom size: not measured.")

    def _show_target_note(self) -> None:
        target = TORCH_TARGETS_BY_KEY[str(self.target_combo.currentData())]
        if not target.supported:
            self.target_note.setText(target.note)
            return
        self.target_note.setText("Set up makes a torch %s environment on Python %s, as inside %s. Builds load in "
                                 "every supported Nuke (14 to 17) whichever environment made them."
                                 % (target.torch, target.python_text, target.nuke))

    def _target_changed(self) -> None:
        self._show_target_note()
        self.check_interpreter()

    # ---- file pickers ---------------------------------------------------------------------------------------------

    def _browse_checkpoint(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "CorridorKey checkpoint",
                                                        os.path.dirname(self.checkpoint_edit.text()),
                                                        "PyTorch checkpoint (*.pth *.pt *.ckpt);;All files (*)")
        if path:
            self.checkpoint_edit.setText(path)

    def _browse_install(self) -> None:
        path = QtWidgets.QFileDialog.getExistingDirectory(self, "Install folder", self.install_edit.text())
        if path:
            self.install_edit.setText(path)

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
        settings = self.settings()
        self.probing = True
        self.probe_result = None
        self.python_status.setText("Checking the export Python...")

        def work():
            try:
                result = self._probe_fn(settings)
            except Exception as exc:  # never leave the dialog waiting forever
                result = env_probe.ProbeResult(python=settings.python, problems=["check failed: %s" % exc])
            self._relay.probe_done.emit((serial, result))

        threading.Thread(target=work, name="CorridorKey probe", daemon=True).start()

    def _on_probe_done(self, payload: object) -> None:
        serial, result = payload  # type: ignore[misc]
        if serial != self._probe_serial:
            return
        self.probing = False
        self.probe_result = result
        self.python_status.setText(result.report())
        self.setup_button.setText("Set up..." if not result.ok or result.warnings else "Recreate...")

    # ---- environment set-up (worker thread) -----------------------------------------------------------------------

    def _ask(self, title: str, text: str) -> bool:
        answer = QtWidgets.QMessageBox.question(self, title, text,
                                                QtWidgets.QMessageBox.Yes | QtWidgets.QMessageBox.No)
        return answer == QtWidgets.QMessageBox.Yes

    def start_setup(self) -> None:
        if self.setup_running:
            return
        settings = self.settings()
        try:
            steps = list(self._plan_fn(settings))
        except ValueError as exc:
            self.python_status.setText("Cannot set up the environment: %s" % exc)
            return
        env_dir = settings.resolved_env_dir()
        text = ("Create the export environment for %s in\n%s\n\nThis downloads torch %s (about 1-3 GB) and runs:\n\n%s"
                % (settings.target.nuke, env_dir, settings.target.torch, env_setup.describe_plan(steps)))
        if not self._confirm_fn("Set up the CorridorKey environment", text):
            return
        self.setup_running = True
        self.setup_outcome = None
        self._setup_cancel.clear()
        self.setup_progress.setValue(0)
        self.setup_progress.show()
        self.setup_cancel.show()
        self.setup_button.setEnabled(False)
        self.build_button.setEnabled(False)

        def work():
            try:
                outcome = env_setup.run_plan(steps, env_dir, self._relay.setup_message.emit,
                                             self._setup_cancel.is_set)
            except Exception as exc:
                outcome = export_runner.CommandOutcome(export_runner.FAILED, "Set up failed: %s" % exc)
            self._relay.setup_done.emit(outcome)

        threading.Thread(target=work, name="CorridorKey set-up", daemon=True).start()

    def _on_setup_message(self, text: str, fraction: float) -> None:
        self.python_status.setText(text)
        self.setup_progress.setValue(int(round(fraction * 100)))

    def _on_setup_done(self, outcome: object) -> None:
        self.setup_running = False
        self.setup_outcome = outcome  # type: ignore[assignment]
        self.setup_progress.hide()
        self.setup_cancel.hide()
        self.setup_button.setEnabled(not self._settings.is_locked("python"))
        self.build_button.setEnabled(True)
        if outcome.ok:  # type: ignore[attr-defined]
            self.check_interpreter()
        else:
            self.python_status.setText(outcome.message)  # type: ignore[attr-defined]

    # ---- build ----------------------------------------------------------------------------------------------------

    def problems(self) -> List[str]:
        """What stops a build now, one sentence each with what to do."""
        s = self.settings()
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
        if self.setup_running:
            found.append("Wait for the environment set-up to finish.")
        elif self.probing:
            found.append("Still checking the export Python; try again in a moment.")
        elif self.probe_result is not None and not self.probe_result.ok:
            fix = (" Fix: " + self.probe_result.fix) if self.probe_result.fix else ""
            found.append("The export Python is not ready: %s.%s" % ("; ".join(self.probe_result.problems), fix))
        return found

    def accept(self) -> None:
        found = self.problems()
        if found:
            self.problems_label.setText("\n".join(found))
            return
        self.problems_label.setText("")
        super().accept()

    def reject(self) -> None:
        self._setup_cancel.set()  # closing the dialog stops a running set-up
        super().reject()

    def show_help(self) -> None:
        exec_dialog(AboutDialog(self))


# ---- About / Help ---------------------------------------------------------------------------------------------------


def _knob_rows() -> str:
    """Every knob on the node, from the specs that build it (the model's knobs and the gizmo's own)."""
    rows = []
    for knob in (HINT_CHANNEL,) + tuple(KNOBS) + (OUTPUT_MODE,):
        span = "%s; default %s" % (knob.span_text(" to "), knob.default_text())
        rows.append("<li><b>%s</b> (%s): %s</li>" % (knob.label, span, knob.tooltip))
    for toggle in TOGGLES:
        rows.append("<li><b>%s</b> (default %s): %s</li>" % (toggle.label, "on" if toggle.default else "off",
                                                             toggle.tooltip))
    return "<ul>%s</ul>" % "".join(rows)


def help_html() -> str:
    """The short artist help: comp tree, hint quality, colour contract, knobs (from the specs)."""
    return (
        "<h3>CorridorKey for Nuke</h3>"
        "<p>A neural green-screen keyer: give it the plate and a rough matte, it returns a clean foreground and a "
        "detailed alpha.</p>"
        "<h4>Comp tree</h4>"
        "<p><tt>Plate</tt> &rarr; CorridorKey input <b>Plate</b>; a rough key of the same plate (Keylight, IBK, "
        "a roto) &rarr; input <b>Hint</b>; CorridorKey &rarr; <b>Merge (over)</b> onto the background.</p>"
        "<h4>The hint</h4>"
        "<p>Keep it <b>coarse and slightly eroded</b> (an Erode or FilterErode of a few pixels): the model fills "
        "edge detail in well but is weaker at removing an over-expanded hint. Hair and motion blur come from the "
        "model, not the hint.</p>"
        "<h4>Colour contract</h4>"
        "<ul><li>Set <b>%(gamma)s</b> to how the plate enters the node: <b>%(linear)s</b> for a normal "
        "scene-linear Nuke script (Read nodes converting to linear), <b>%(srgb)s</b> for a display-referred plate. "
        "The model works in sRGB at its own square resolution (the one you built, %(native)d by default) and "
        "resizes the result back to the plate's size.</li>"
        "<li>Working in ACEScg or another wide gamut: convert to linear sRGB/Rec.709 primaries before the node "
        "and back after it.</li>"
        "<li><b>%(output)s</b>: <i>%(premult)s</i> (default) is linear RGBA premultiplied by the matte, ready to "
        "Merge over; the other choices give the linear foreground un-premultiplied, or the matte alone.</li></ul>"
        "<h4>Knobs</h4>%(knobs)s"
        "<h4>Speed</h4>"
        "<p>Each frame is processed at the model resolution whatever the plate size; a GPU makes it practical.</p>"
        "<p>CorridorKey is licensed CC BY-NC-SA 4.0 (variant): use in productions is fine; selling it is not. "
        "This plugin does not ship the weights.</p>"
    ) % {"gamma": GAMMA_INPUT.label, "linear": GAMMA_INPUT.items[1], "srgb": GAMMA_INPUT.items[0],
         "native": contract.NATIVE_RESOLUTION, "output": OUTPUT_MODE.label, "premult": OUTPUT_MODE.items[0],
         "knobs": _knob_rows()}


class AboutDialog(QtWidgets.QDialog):
    def __init__(self, parent: Optional[QtWidgets.QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("CorridorKeyHelp")
        self.setWindowTitle("CorridorKey - About / Help")
        self.text = QtWidgets.QTextBrowser()
        self.text.setOpenExternalLinks(True)
        self.text.setHtml(help_html())
        close = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Close)
        close.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(close)
        self.resize(560, 620)
