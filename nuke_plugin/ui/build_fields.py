"""The Build Model dialog's model fields: checkpoint, model resolution, target Nuke and install folder.

Why a panel of its own: the dialog composes small widgets (these fields, the export-environment panel) instead of
growing one class; each panel loads its part of the Settings and writes it back.
"""
from __future__ import annotations

import os
from typing import Optional

from .. import contract
from ..contract.torch_targets import PORTABLE, TORCH_TARGETS, TORCH_TARGETS_BY_KEY, nukes_for_target
from ..core.compatibility import nukes_text
from ..core.settings import RESOLUTIONS, Settings, cost_text
from .qt_compat import QtWidgets, Signal
from .widgets import lock, note_label, row


class ModelFields(QtWidgets.QWidget):
    """The choices that define the build. `target_changed` fires when another target Nuke is picked."""

    target_changed = Signal()

    def __init__(self, parent: Optional[QtWidgets.QWidget] = None) -> None:
        super().__init__(parent)
        form = QtWidgets.QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setVerticalSpacing(6)

        self.checkpoint_edit = QtWidgets.QLineEdit()
        self.checkpoint_edit.setPlaceholderText(contract.WEIGHTS_FILE)
        self.checkpoint_browse = QtWidgets.QPushButton("Browse...")
        self.checkpoint_browse.clicked.connect(self._browse_checkpoint)
        form.addRow("Checkpoint", row(self.checkpoint_edit, self.checkpoint_browse))
        self.checkpoint_note = note_label(
            "The weights are not shipped: download %s (about 300 MB) from Hugging Face, %s."
            % (contract.WEIGHTS_FILE, contract.WEIGHTS_REPO))
        form.addRow("", self.checkpoint_note)

        self.resolution_combo = QtWidgets.QComboBox()
        for choice in RESOLUTIONS:
            self.resolution_combo.addItem(choice.label, choice.value)
        self.resolution_cost = note_label()
        self.resolution_combo.currentIndexChanged.connect(self._show_resolution_cost)
        form.addRow("Model resolution", self.resolution_combo)
        form.addRow("", self.resolution_cost)

        self.target_combo = QtWidgets.QComboBox()
        for target in TORCH_TARGETS:
            self.target_combo.addItem(target.label, target.key)
            if not target.supported:
                item = self.target_combo.model().item(self.target_combo.count() - 1)
                item.setEnabled(False)
        self.target_note = note_label()
        self.target_combo.currentIndexChanged.connect(self._on_target_changed)
        form.addRow("Target Nuke", self.target_combo)
        form.addRow("", self.target_note)

        self.install_edit = QtWidgets.QLineEdit()
        self.install_edit.setPlaceholderText("default: the CorridorKey folder in your .nuke")
        self.install_browse = QtWidgets.QPushButton("Browse...")
        self.install_browse.clicked.connect(self._browse_install)
        form.addRow("Install folder", row(self.install_edit, self.install_browse))

    def load(self, s: Settings) -> None:
        self.checkpoint_edit.setText(s.checkpoint)
        index = self.resolution_combo.findData(s.resolution)
        if index < 0:  # a TD's custom size from the environment or the file
            self.resolution_combo.addItem("%d  (custom)" % s.resolution, s.resolution)
            index = self.resolution_combo.count() - 1
        self.resolution_combo.setCurrentIndex(index)
        self.target_combo.blockSignals(True)
        self.target_combo.setCurrentIndex(max(0, self.target_combo.findData(s.torch_target)))
        self.target_combo.blockSignals(False)
        self.install_edit.setText(s.install_dir)
        self._show_resolution_cost()
        self._show_target_note()
        for name, widgets in (("checkpoint", (self.checkpoint_edit, self.checkpoint_browse)),
                              ("resolution", (self.resolution_combo,)), ("torch_target", (self.target_combo,)),
                              ("install_dir", (self.install_edit, self.install_browse))):
            if s.is_locked(name):
                lock(s, name, widgets)

    def apply_to(self, s: Settings) -> None:
        s.checkpoint = self.checkpoint_edit.text().strip()
        s.resolution = int(self.resolution_combo.currentData())
        s.torch_target = str(self.target_combo.currentData())
        s.install_dir = self.install_edit.text().strip()

    def _show_resolution_cost(self) -> None:
        value = self.resolution_combo.currentData()
        target = self.target_combo.currentData()
        self.resolution_cost.setText(cost_text(int(value), str(target or "")) if value is not None else "")

    def _show_target_note(self) -> None:
        target = TORCH_TARGETS_BY_KEY[str(self.target_combo.currentData())]
        if not target.supported:
            self.target_note.setText(target.note)
            return
        if target.operators == PORTABLE:
            loads = "the portable attention, which loads in every supported Nuke"
        else:
            loads = "the %s attention, the fastest, which loads in %s only" % (
                target.operators, nukes_text([t.key for t in nukes_for_target(target.key)]))
        self.target_note.setText("Set up makes a torch %s environment on Python %s, as inside %s. Its builds use %s."
                                 % (target.torch, target.python_text, target.nuke, loads))

    def _on_target_changed(self) -> None:
        self._show_target_note()
        self._show_resolution_cost()
        self.target_changed.emit()

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

