"""The About / Help window: the comp tree, the hint, the colour contract and every knob (from the specs that
build the node). Qt through qt_compat; no `nuke`."""
from __future__ import annotations

from typing import Optional

from .. import contract
from ..contract.knob_spec import GAMMA_INPUT, KNOBS
from ..contract.node_graph import HINT_BACKING, HINT_ERODE, HINT_SOURCE, PREVIEW_COLOUR
from ..core.gizmo import HINT_CHANNEL, OUTPUT_MODE, TOGGLES, node_knob, panel_knobs
from .qt_compat import QtWidgets


def _knob_rows() -> str:
    """Every knob on the node, from the specs that build it (the model's knobs and the gizmo's own)."""
    rows = []
    model = tuple(node_knob(k) for k in panel_knobs(KNOBS))
    for knob in (HINT_CHANNEL, HINT_SOURCE, HINT_ERODE) + model + (OUTPUT_MODE,):
        span = "%s; default %s" % (knob.span_text(" to "), knob.default_text())
        rows.append("<li><b>%s</b> (%s): %s</li>" % (knob.label, span, knob.tooltip))
    for colour in (HINT_BACKING, PREVIEW_COLOUR):
        rows.append("<li><b>%s</b> (colour; default %s): %s</li>" % (
            colour.label, " ".join("%g" % v for v in colour.default), colour.tooltip))
    for toggle in TOGGLES:
        rows.append("<li><b>%s</b> (default %s): %s</li>" % (toggle.label, "on" if toggle.default else "off",
                                                             toggle.tooltip))
    return "<ul>%s</ul>" % "".join(rows)


def help_html() -> str:
    """The short artist help: comp tree, hint quality, colour contract, knobs (from the specs)."""
    return (
        "<h3>CorridorKey for Nuke</h3>"
        "<p>Plugin version %(version)s. A neural green-screen keyer: give it the plate and a rough matte, it "
        "returns a clean foreground and a detailed alpha.</p>"
        "<p>The network is <a href=\"%(upstream)s\">CorridorKey</a>; its weights come from Hugging Face, "
        "<a href=\"%(weights_url)s\">%(weights_repo)s</a>.</p>"
        "<h4>Comp tree</h4>"
        "<p><tt>Plate</tt> &rarr; CorridorKey input <b>Plate</b>; CorridorKey &rarr; <b>Merge (over)</b> onto the "
        "background. That is all a first key needs: with the <b>Hint</b> input left unconnected the node makes a "
        "coarse, eroded <b>built-in hint</b> from the plate (set <b>%(backing)s</b> to the screen's colour if it "
        "is not a usual green; <b>%(output)s</b>: <i>%(hint_view)s</i> shows it). For a better hint, connect a "
        "rough key of the same plate (Keylight, IBK, a roto) to <b>Hint</b>.</p>"
        "<h4>The hint</h4>"
        "<p>Keep it <b>coarse and slightly eroded</b> (an Erode or FilterErode of a few pixels): the model fills "
        "edge detail in well but is weaker at removing an over-expanded hint. Hair and motion blur come from the "
        "model, not the hint.</p>"
        "<h4>Colour contract</h4>"
        "<ul><li>Set <b>%(gamma)s</b> to how the plate enters the node: <b>%(linear)s</b> (the default) for a "
        "normal scene-linear Nuke script (Read nodes converting to linear), <b>%(srgb)s</b> for a display-referred "
        "plate. "
        "The model works in sRGB at its own square resolution (the one you built, %(native)d by default) and "
        "resizes the result back to the plate's size.</li>"
        "<li>Working in ACEScg or another wide gamut: convert to linear sRGB/Rec.709 primaries before the node "
        "and back after it.</li>"
        "<li><b>%(output)s</b>: <i>%(premult)s</i> (default) is linear RGBA premultiplied by the matte, ready to "
        "Merge over; the other choices give the linear foreground un-premultiplied, the matte alone, the hint "
        "the model gets, or a preview of the key over a checkerboard or a colour (to judge edges; not for "
        "comping).</li></ul>"
        "<h4>Knobs</h4>%(knobs)s"
        "<h4>Speed</h4>"
        "<p>Each frame is processed at the model resolution whatever the plate size; a GPU makes it practical.</p>"
        "<p>CorridorKey is licensed CC BY-NC-SA 4.0 (variant): use in productions is fine; selling it is not. "
        "This plugin does not ship the weights.</p>"
    ) % {"version": contract.VERSION, "upstream": contract.UPSTREAM_URL, "weights_url": contract.WEIGHTS_URL,
         "weights_repo": contract.WEIGHTS_REPO, "gamma": GAMMA_INPUT.label, "linear": GAMMA_INPUT.items[1],
         "srgb": GAMMA_INPUT.items[0],
         "native": contract.NATIVE_RESOLUTION, "output": OUTPUT_MODE.label, "premult": OUTPUT_MODE.items[0],
         "backing": HINT_BACKING.label, "hint_view": OUTPUT_MODE.items[3],
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
