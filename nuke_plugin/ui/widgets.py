"""Small widget helpers shared by the Build Model dialog's panels."""
from __future__ import annotations

from typing import Sequence

from ..core.settings import Settings
from .qt_compat import QtCore, QtWidgets


def row(*widgets: QtWidgets.QWidget) -> QtWidgets.QWidget:
    """Widgets side by side; the first one takes the spare width."""
    holder = QtWidgets.QWidget()
    layout = QtWidgets.QHBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    for i, widget in enumerate(widgets):
        layout.addWidget(widget, 1 if i == 0 else 0)
    return holder


class NoteLabel(QtWidgets.QLabel):
    """A wrapped plain-text note that asks its layout for the height its text needs at its present width.

    Why: layouts size a window from its widgets' minimum sizes, which ignore height-for-width, so a wrapped
    label is otherwise squeezed and its last lines cut (under PySide2 every note, under PySide6 the
    environment's Fix line). Plain text on purpose: what is measured is what is drawn.
    """

    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self.setTextFormat(QtCore.Qt.PlainText)
        self.setWordWrap(True)
        self._fit()

    def setText(self, text: str) -> None:
        super().setText(text)
        self._fit()

    def hasHeightForWidth(self) -> bool:
        """No: the label sets its own minimum height (layouts' height-for-width arithmetic over-asks here)."""
        return False

    def sizeHint(self):
        return QtCore.QSize(self.minimumSizeHint().width(), self.minimumHeight())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width():
            self._fit()

    def _fit(self) -> None:
        width = self.contentsRect().width()
        if width <= 0 or not self.text():
            self.setMinimumHeight(0)
            return
        flags = int(self.alignment()) | int(QtCore.Qt.TextWordWrap)
        text_height = self.fontMetrics().boundingRect(QtCore.QRect(0, 0, width, 100000), flags, self.text()).height()
        margins = self.contentsMargins()
        needed = max(text_height + margins.top() + margins.bottom(), self.heightForWidth(self.width()))
        if needed != self.minimumHeight():
            self.setMinimumHeight(needed)


def note_label(text: str = "") -> QtWidgets.QLabel:
    """A wrapped note for the dialog's panels (see NoteLabel)."""
    return NoteLabel(text)


def lock(settings: Settings, name: str, widgets: Sequence[QtWidgets.QWidget]) -> None:
    """Greys out the widgets of a field a studio fixed with an environment variable, saying which one."""
    for widget in widgets:
        widget.setEnabled(False)
        widget.setToolTip("Set by %s (your studio's setting)" % settings.overrides[name])


def align_label_columns(*forms: QtWidgets.QFormLayout) -> None:
    """Gives the label column of several stacked form layouts one width, so their fields line up."""
    labels = [form.itemAt(i, QtWidgets.QFormLayout.LabelRole).widget() for form in forms
              for i in range(form.rowCount()) if form.itemAt(i, QtWidgets.QFormLayout.LabelRole) is not None]
    width = max((label.sizeHint().width() for label in labels if label is not None), default=0)
    for label in labels:
        if label is not None:
            label.setMinimumWidth(width)
