"""Nodes of the fake `nuke` module: the classes the plugin and its gizmo use, each with its real knob names.

A node class the catalogue does not list is unknown to the fake (as a plug-in Nuke cannot find is unknown to
Nuke), and a knob name a class does not have raises NameError on `node['name']`, as in Nuke.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from . import knobs as K

# Every node has these (the "Node" tab and the hidden bookkeeping knobs .nk files carry).
COMMON_KNOBS = [
    (K.String_Knob, "name"), (K.Multiline_Eval_String_Knob, "label"), (K.Int_Knob, "xpos"), (K.Int_Knob, "ypos"),
    (K.Boolean_Knob, "selected"), (K.Int_Knob, "tile_color"), (K.Int_Knob, "gl_color"),
    (K.String_Knob, "note_font"), (K.Double_Knob, "note_font_size"), (K.Int_Knob, "note_font_color"),
    (K.Boolean_Knob, "hide_input"), (K.Boolean_Knob, "postage_stamp"), (K.String_Knob, "icon"),
    (K.String_Knob, "onCreate"), (K.String_Knob, "onDestroy"), (K.String_Knob, "knobChanged"),
    (K.String_Knob, "updateUI"), (K.String_Knob, "autolabel"), (K.Boolean_Knob, "bookmark"),
    (K.Boolean_Knob, "dope_sheet"), (K.Boolean_Knob, "lifetimeStart"), (K.Boolean_Knob, "lifetimeEnd"),
    (K.Int_Knob, "indicators"),
]
DISABLE = [(K.Boolean_Knob, "disable")]
MASK_KNOBS = [(K.Channel_Knob, "maskChannelMask"), (K.Channel_Knob, "maskChannelInput"),
              (K.Boolean_Knob, "inject"), (K.Boolean_Knob, "invert_mask"), (K.Boolean_Knob, "fringe"),
              (K.Double_Knob, "mix")]
GROUP_KNOBS = [(K.String_Knob, "help"), (K.Boolean_Knob, "lock_connections"), (K.Boolean_Knob, "disable"),
               (K.Array_Knob, "mapsize")]
# The channel-set knobs of nodes that process some channels (Remove / AddChannels carry four).
CHANNELS = [(K.ChannelMask_Knob, "channels")]
CHANNELS_4 = CHANNELS + [(K.ChannelMask_Knob, "channels2"), (K.ChannelMask_Knob, "channels3"),
                         (K.ChannelMask_Knob, "channels4")]
# Nuke's resampling filters (Transform, Reformat, STMap, ...).
FILTERS = ["Impulse", "Cubic", "Keys", "Simon", "Rifman", "Mitchell", "Parzen", "Notch", "Lanczos4", "Lanczos6",
           "Sinc4"]
MERGE_OPERATIONS = [
    "atop", "average", "color-burn", "color-dodge", "conjoint-over", "copy", "difference", "disjoint-over",
    "divide", "exclusion", "from", "geometric", "hard-light", "hypot", "in", "mask", "matte", "max", "min",
    "minus", "multiply", "out", "over", "overlay", "plus", "screen", "soft-light", "stencil", "under", "xor",
]
# A Shuffle's per-channel source: a channel of the input (of input 2 for ShuffleCopy: `alpha2`) or a constant.
SHUFFLE_SOURCES = ["red", "green", "blue", "alpha", "black", "white"]

# Nuke's built-in Colorspace curves and colour models (the knob's items; names do not depend on OCIO).
COLORSPACE_ITEMS = [
    "linear", "sRGB", "rec709", "Cineon", "Gamma1.8", "Gamma2.2", "Gamma2.4", "Gamma2.6", "Panalog",
    "REDLog", "ViperLog", "AlexaV3LogC", "PLogLin", "SLog", "SLog1", "SLog2", "SLog3", "CLog", "Log3G10",
    "Log3G12", "HybridLogGamma", "Protune", "BT1886", "st2084", "HSV", "HSL", "YPbPr", "YCbCr", "CIE-XYZ",
    "CIE-Yxy", "CIE-Lab", "CIE-LCH", "RGB",
]


def _enum(items: List[str]) -> Callable[[str], K.Enumeration_Knob]:
    return lambda name: K.Enumeration_Knob(name, name, items)


def _default(knob_class: Any, value: Any) -> Callable[[str], Any]:
    def make(name: str) -> Any:
        knob = knob_class(name)
        knob.setValue(value)
        return knob
    return make


# class name -> (max inputs, extra knobs). A factory is a knob class or a callable(name) -> knob.
NODE_CLASSES = {
    "Root": (0, [(K.Int_Knob, "first_frame"), (K.Int_Knob, "last_frame"), (K.Double_Knob, "fps"),
                 (K.Format_Knob, "format"), (K.File_Knob, "project_directory"),
                 (K.String_Knob, "colorManagement"), (K.String_Knob, "OCIO_config")]),
    "Group": (0, GROUP_KNOBS),
    "Input": (0, [(K.Int_Knob, "number")]),
    "Output": (1, []),
    "Dot": (1, []),
    "NoOp": (1, DISABLE),
    "Constant": (0, DISABLE + [(K.AColor_Knob, "color"), (K.Format_Knob, "format"),
                               (K.ChannelMask_Knob, "channels"), (K.Int_Knob, "first"), (K.Int_Knob, "last")]),
    "Read": (0, [(K.File_Knob, "file"), (K.Int_Knob, "first"), (K.Int_Knob, "last"), (K.Int_Knob, "origfirst"),
                 (K.Int_Knob, "origlast"), (K.Format_Knob, "format"), (K.String_Knob, "colorspace"),
                 (K.Boolean_Knob, "raw"), (K.String_Knob, "on_error")]),
    "Write": (1, DISABLE + [(K.File_Knob, "file"), (_enum(["exr", "png", "tiff", "jpeg", "dpx", "mov"]), "file_type"),
                            (K.ChannelMask_Knob, "channels"), (_enum(["16 bit half", "32 bit float"]), "datatype"),
                            (K.String_Knob, "compression"), (K.String_Knob, "colorspace"), (K.Boolean_Knob, "raw"),
                            (K.Boolean_Knob, "create_directories"), (K.Boolean_Knob, "use_limit"),
                            (K.Int_Knob, "first"), (K.Int_Knob, "last")]),
    "Copy": (3, DISABLE + MASK_KNOBS + [
        (K.Channel_Knob, "from0"), (K.Channel_Knob, "to0"), (K.Channel_Knob, "from1"), (K.Channel_Knob, "to1"),
        (K.Channel_Knob, "from2"), (K.Channel_Knob, "to2"), (K.Channel_Knob, "from3"), (K.Channel_Knob, "to3"),
        (K.ChannelMask_Knob, "channels"), (_enum(["union", "intersection", "A", "B"]), "bbox"),
        (_enum(["All", "A", "B"]), "metainput")]),
    "Expression": (2, DISABLE + MASK_KNOBS + [
        (K.String_Knob, "temp_name0"), (K.String_Knob, "temp_expr0"), (K.String_Knob, "temp_name1"),
        (K.String_Knob, "temp_expr1"), (K.String_Knob, "temp_name2"), (K.String_Knob, "temp_expr2"),
        (K.String_Knob, "temp_name3"), (K.String_Knob, "temp_expr3"),
        (K.ChannelMask_Knob, "channel0"), (K.String_Knob, "expr0"), (K.ChannelMask_Knob, "channel1"),
        (K.String_Knob, "expr1"), (K.ChannelMask_Knob, "channel2"), (K.String_Knob, "expr2"),
        (K.ChannelMask_Knob, "channel3"), (K.String_Knob, "expr3"), (K.Boolean_Knob, "unpremult")]),
    "Colorspace": (1, DISABLE + MASK_KNOBS + [
        (K.ChannelMask_Knob, "channels"), (_enum(COLORSPACE_ITEMS), "colorspace_in"),
        (_enum(COLORSPACE_ITEMS), "colorspace_out"), (K.String_Knob, "illuminant_in"),
        (K.String_Knob, "illuminant_out"), (K.String_Knob, "primary_in"), (K.String_Knob, "primary_out"),
        (K.Boolean_Knob, "bradford_matrix")]),
    "Premult": (1, DISABLE + [(K.ChannelMask_Knob, "channels"), (K.Channel_Knob, "alpha"),
                              (K.Boolean_Knob, "invert")]),
    "Unpremult": (1, DISABLE + [(K.ChannelMask_Knob, "channels"), (K.Channel_Knob, "alpha"),
                                (K.Boolean_Knob, "invert")]),
    "Switch": (16, DISABLE + [(K.Double_Knob, "which")]),
    "Merge2": (16, DISABLE + MASK_KNOBS + [
        (_enum(MERGE_OPERATIONS), "operation"), (_enum(["union", "intersection", "A", "B"]), "bbox"),
        (K.ChannelMask_Knob, "Achannels"), (K.ChannelMask_Knob, "Bchannels"), (K.ChannelMask_Knob, "output"),
        (K.ChannelMask_Knob, "also_merge")]),
    "Inference": (1, DISABLE + [
        (K.File_Knob, "modelFile"), (_default(K.Boolean_Knob, True), "useGPUIfAvailable"),
        (K.Boolean_Knob, "halfPrecision"), (K.Text_Knob, "gpuName"), (K.String_Knob, "serialiseKnob")]),
    "CatFileCreator": (0, [
        (K.File_Knob, "torchScriptFile"), (K.File_Knob, "catFile"), (K.String_Knob, "channelsIn"),
        (K.String_Knob, "channelsOut"), (K.String_Knob, "modelId"), (_default(K.Int_Knob, 1), "outputScale")]),
}

TRANSFORM_KNOBS = [
    (K.XY_Knob, "translate"), (K.Double_Knob, "rotate"), (K.WH_Knob, "scale"), (K.Double_Knob, "skewX"),
    (K.Double_Knob, "skewY"), (_enum(["XY", "YX"]), "skew_order"), (K.XY_Knob, "center"),
    (K.Boolean_Knob, "invert_matrix"), (_enum(FILTERS), "filter"), (K.Boolean_Knob, "clamp"),
    (K.Boolean_Knob, "black_outside"), (K.Double_Knob, "motionblur"), (K.Double_Knob, "shutter"),
    (_enum(["centred", "start", "end", "custom"]), "shutteroffset"), (K.Double_Knob, "shuttercustomoffset"),
]
# Classes that public gizmos use (tests/data/gizmos), with the knobs those files set and their neighbours.
NODE_CLASSES.update({
    "BackdropNode": (0, [(K.Int_Knob, "bdwidth"), (K.Int_Knob, "bdheight"), (K.Int_Knob, "z_order"),
                         (K.String_Knob, "appearance"), (K.Double_Knob, "border_width")]),
    "StickyNote": (0, []),
    # The expression is a number that stops the render with `message` as the node's error where it is 0.
    "Assert": (1, DISABLE + [(K.Double_Knob, "expression"), (K.String_Knob, "message")]),
    "AddChannels": (1, DISABLE + CHANNELS_4 + [(K.Format_Knob, "format")]),
    "Remove": (1, DISABLE + CHANNELS_4 + [(_enum(["remove", "keep"]), "operation")]),
    "Shuffle": (1, DISABLE + [(K.ChannelMask_Knob, "in"), (K.ChannelMask_Knob, "in2"),
                              (K.ChannelMask_Knob, "out"), (K.ChannelMask_Knob, "out2")]
                + [(_enum(SHUFFLE_SOURCES), c) for c in ("red", "green", "blue", "alpha")]),
    "ShuffleCopy": (2, DISABLE + [(K.ChannelMask_Knob, "in"), (K.ChannelMask_Knob, "in2"),
                                  (K.ChannelMask_Knob, "out"), (K.ChannelMask_Knob, "out2")]
                    + [(_enum(SHUFFLE_SOURCES + [x + "2" for x in SHUFFLE_SOURCES[:4]]), c)
                       for c in ("red", "green", "blue", "alpha")]),
    # Shuffle2 keeps its routing in text knobs: `fromInput1 {{0} B}`, `mappings "4 rgba.red 0 0 ..."`.
    "Shuffle2": (2, DISABLE + [(K.String_Knob, k) for k in ("fromInput1", "fromInput2", "mappings")]
                 + [(K.ChannelMask_Knob, k) for k in ("in1", "in2", "out1", "out2")]),
    "Crop": (1, DISABLE + [(K.BBox_Knob, "box"), (K.WH_Knob, "softness"), (K.Boolean_Knob, "reformat"),
                           (K.Boolean_Knob, "intersect"), (K.Boolean_Knob, "crop")]),
    "Reformat": (1, DISABLE + [
        (_enum(["to format", "to box", "scale"]), "type"), (K.Format_Knob, "format"), (K.WH_Knob, "scale"),
        (K.Double_Knob, "box_width"), (K.Double_Knob, "box_height"), (K.Boolean_Knob, "box_fixed"),
        (K.Double_Knob, "box_pixel_aspect"), (_enum(["none", "width", "height", "fit", "fill", "distort"]), "resize"),
        (K.Boolean_Knob, "center"), (K.Boolean_Knob, "flip"), (K.Boolean_Knob, "flop"), (K.Boolean_Knob, "turn"),
        (_enum(FILTERS), "filter"), (K.Boolean_Knob, "clamp"), (K.Boolean_Knob, "black_outside"),
        (K.Boolean_Knob, "pbb")]),
    "Transform": (1, DISABLE + TRANSFORM_KNOBS),
    "TransformMasked": (2, DISABLE + CHANNELS + MASK_KNOBS + TRANSFORM_KNOBS),
    "AdjBBox": (1, DISABLE + [(K.WH_Knob, "numpixels")]),
    "CopyBBox": (2, DISABLE),
    "BlackOutside": (1, DISABLE),
    "Dissolve": (16, DISABLE + CHANNELS + MASK_KNOBS + [(K.Double_Knob, "which")]),
    "Keymix": (3, DISABLE + CHANNELS + [(K.Channel_Knob, "maskChannel"), (K.Boolean_Knob, "invertMask"),
                                        (K.Double_Knob, "mix"), (_enum(["union", "B", "A"]), "bbox")]),
    "Grade": (2, DISABLE + CHANNELS + MASK_KNOBS + [
        (K.AColor_Knob, k) for k in ("blackpoint", "whitepoint", "black", "white", "multiply", "add", "gamma")] + [
        (K.Boolean_Knob, "reverse"), (K.Boolean_Knob, "black_clamp"), (K.Boolean_Knob, "white_clamp"),
        (K.Boolean_Knob, "unpremult")]),
    "Multiply": (2, DISABLE + CHANNELS + MASK_KNOBS + [(K.AColor_Knob, "value"), (K.Boolean_Knob, "unpremult")]),
    "Invert": (2, DISABLE + CHANNELS + MASK_KNOBS + [(K.Boolean_Knob, "clamp")]),
    "Fill": (2, DISABLE + MASK_KNOBS + [(K.ChannelMask_Knob, "output"), (K.AColor_Knob, "color")]),
    "Erode": (2, DISABLE + CHANNELS + MASK_KNOBS + [(K.Double_Knob, "size"), (K.Double_Knob, "blur"),
                                                   (K.Double_Knob, "quality")]),
    # "Erode (fast)": a box minimum / maximum filter (Foundry's reference page lists these knobs; the NDK's
    # Dilate example, class "Dilate", keeps its size in a WH knob).
    "Dilate": (2, DISABLE + CHANNELS + MASK_KNOBS + [(K.WH_Knob, "size")]),
    "FrameHold": (1, DISABLE + [(K.Int_Knob, "firstFrame"), (K.Int_Knob, "first_frame"),
                                (K.Int_Knob, "increment")]),
    "OCIOColorSpace": (1, DISABLE + CHANNELS + MASK_KNOBS + [
        (K.String_Knob, "in_colorspace"), (K.String_Knob, "out_colorspace")]),  # names come from the OCIO config
    "ModifyMetaData": (1, DISABLE + [(K.String_Knob, "metadata")]),
    "Rectangle": (1, DISABLE + MASK_KNOBS + [
        (K.ChannelMask_Knob, "output"), (K.Boolean_Knob, "replace"), (K.Boolean_Knob, "invert"),
        (K.Double_Knob, "opacity"), (K.BBox_Knob, "area"), (K.WH_Knob, "softness"), (K.AColor_Knob, "color"),
        (K.Format_Knob, "format")]),
    "Grid": (1, DISABLE + MASK_KNOBS + [
        (K.ChannelMask_Knob, "output"), (K.Boolean_Knob, "replace"), (K.Boolean_Knob, "invert"),
        (K.Double_Knob, "opacity"), (K.XY_Knob, "number"), (K.Double_Knob, "size"), (K.AColor_Knob, "color"),
        (K.Format_Knob, "format")]),
    # CaraVR's STMap (a NukeX plug-in); its version is in the class name.
    "C_STMap2_1": (2, DISABLE + [(K.ChannelMask_Knob, "uv"), (_enum(FILTERS), "filter")]),
})

# Node classes only NukeX / Nuke Studio / Nuke Indie can create (plain Nuke refuses them).
NUKEX_ONLY = {"CatFileCreator"}


class Node(object):
    """One node. Groups (Group, gizmos, Root) hold children and work as contexts (`with group:`)."""

    def __init__(self, fake: Any, cls: str, max_inputs: int, knob_factories: List[Tuple[Any, str]],
                 parent: Optional["Node"], is_group: bool = False) -> None:
        self.fake = fake
        self._cls = cls
        self._max_inputs = max_inputs
        self._inputs: List[Optional[Node]] = []
        self._knobs: Dict[str, K.Knob] = {}
        self._order: List[str] = []
        self._parent = parent
        self._children: Optional[List[Node]] = [] if is_group else None
        self._deleted = False
        self._error: Optional[str] = None
        self._unknowable: Optional[str] = None  # why the fake cannot tell whether the node has an error
        self.panel_shown = False
        for factory, name in COMMON_KNOBS + knob_factories:
            self._attach(factory(name))
        for knob in list(self._knobs.values()):
            if isinstance(knob, K.Color_Knob):
                # Nuke writes `color_panelDropped true` for built-in colour knobs: a hidden knob of its own.
                companion = K.Boolean_Knob(knob.name() + "_panelDropped", "panel dropped state")
                companion.setVisible(False)
                self._attach(companion)

    # -- bookkeeping
    def _attach(self, knob: K.Knob) -> None:
        if knob.name() in self._knobs:
            raise ValueError("%s already has a knob named %r" % (self._cls, knob.name()))
        knob._node = self
        self._knobs[knob.name()] = knob
        self._order.append(knob.name())

    def _check_alive(self) -> None:
        if self._deleted:
            raise ValueError("PythonObject not attached to a valid node (it was deleted)")

    def is_group(self) -> bool:
        return self._children is not None

    def is_root(self) -> bool:
        return self._cls == "Root"

    def parent_group(self) -> Optional["Node"]:
        return self._parent

    # -- knobs
    def __getitem__(self, name: str) -> K.Knob:
        self._check_alive()
        if not isinstance(name, str):
            raise TypeError("knob names are str, got %r" % (name,))
        if name not in self._knobs:
            raise NameError("knob %s does not exist (node %s, class %s)" % (name, self.name(), self._cls))
        return self._knobs[name]

    def knob(self, name: str) -> Optional[K.Knob]:
        self._check_alive()
        return self._knobs.get(name)

    def knobs(self) -> Dict[str, K.Knob]:
        self._check_alive()
        return dict(self._knobs)

    def allKnobs(self) -> List[K.Knob]:
        self._check_alive()
        return [self._knobs[n] for n in self._order]

    def user_knobs(self) -> List[K.Knob]:
        """Fake-only: knobs added with addKnob / addUserKnob, in order."""
        return [self._knobs[n] for n in self._order if self._knobs[n].user]

    def addKnob(self, knob: K.Knob) -> bool:
        self._check_alive()
        if not isinstance(knob, K.Knob):
            raise TypeError("addKnob takes a knob, got %r" % (knob,))
        if knob._node is not None:
            raise ValueError("knob %s already belongs to node %s" % (knob.name(), knob._node.name()))
        if not any(k.user for k in self._knobs.values()) and not isinstance(knob, K.Tab_Knob):
            tab = K.Tab_Knob("User")  # Nuke opens a "User" tab for the first user knob
            tab.user = True
            self._attach(tab)
        knob.user = True
        self._attach(knob)
        return True

    def removeKnob(self, knob: K.Knob) -> None:
        self._check_alive()
        if self._knobs.get(knob.name()) is not knob:
            raise ValueError("knob %s is not on node %s" % (knob.name(), self.name()))
        del self._knobs[knob.name()]
        self._order.remove(knob.name())
        knob._node = None

    # -- identity
    def Class(self) -> str:
        self._check_alive()
        return self._cls

    def name(self) -> str:
        self._check_alive()
        return self._knobs["name"]._value

    def setName(self, name: str, uniquify: bool = False) -> None:
        self._check_alive()
        siblings = self._parent._children if self._parent is not None else []
        if any(n is not self and n.name() == name for n in siblings):
            if not uniquify:
                raise ValueError("a node called %s already exists" % name)
            name = self.fake._unique_name(self._parent, name)
        self._knobs["name"].setValue(name)

    def fullName(self) -> str:
        self._check_alive()
        parts = [self.name()]
        node = self._parent
        while node is not None and not node.is_root():
            parts.append(node.name())
            node = node._parent
        return ".".join(reversed(parts))

    # -- graph
    def maxInputs(self) -> int:
        self._check_alive()
        if self.is_group() and not self.is_root():
            return len([c for c in self._children if c._cls == "Input"])
        return self._max_inputs

    def inputs(self) -> int:
        self._check_alive()
        count = 0
        for i, node in enumerate(self._inputs):
            if node is not None:
                count = i + 1
        return count

    def input(self, index: int) -> Optional["Node"]:
        self._check_alive()
        return self._inputs[index] if 0 <= index < len(self._inputs) else None

    def setInput(self, index: int, node: Optional["Node"]) -> bool:
        self._check_alive()
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError("setInput: the input number must be an int")
        if index < 0 or index >= max(self.maxInputs(), 0):
            return False
        if node is not None:
            node._check_alive()
            if node._parent is not self._parent:
                raise ValueError("setInput: %s and %s are in different groups" % (self.name(), node.name()))
        while len(self._inputs) <= index:
            self._inputs.append(None)
        self._inputs[index] = node
        return True

    def dependent(self) -> List["Node"]:
        self._check_alive()
        siblings = self._parent._children if self._parent is not None else []
        return [n for n in siblings if self in n._inputs]

    # -- selection / position / panel
    def setSelected(self, selected: bool) -> None:
        self._knobs["selected"].setValue(bool(selected))

    def isSelected(self) -> bool:
        return self["selected"].value()

    def xpos(self) -> int:
        return self["xpos"].value()

    def ypos(self) -> int:
        return self["ypos"].value()

    def setXYpos(self, x: int, y: int) -> None:
        self["xpos"].setValue(int(x))
        self["ypos"].setValue(int(y))

    def setXpos(self, x: int) -> None:
        self["xpos"].setValue(int(x))

    def setYpos(self, y: int) -> None:
        self["ypos"].setValue(int(y))

    def showControlPanel(self) -> None:
        self._check_alive()
        self.panel_shown = True

    def hideControlPanel(self) -> None:
        self._check_alive()
        self.panel_shown = False

    # -- errors
    def hasError(self) -> bool:
        """Whether the node shows an error; FakeLimitation where the fake cannot evaluate what Nuke would (a Tcl
        modelFile beyond `plugins -all` / `lsearch -inline`, for one)."""
        self._check_alive()
        if self._error is None and self._unknowable is not None:
            raise K.FakeLimitation(self._unknowable)
        return self._error is not None

    def error_message(self) -> Optional[str]:
        """Fake-only: the error the node shows (hasError())."""
        return self._error

    def forceValidate(self) -> None:
        """Re-checks the node as Nuke does before rendering; a group reports its first failing child."""
        self._check_alive()
        self._error = self._unknowable = None
        if self.is_group() and not self.is_root():
            for child in self._children:
                child.forceValidate()
                if child._error and self._error is None:
                    self._error = "%s: %s" % (child.name(), child._error)
                if child._unknowable and self._unknowable is None:
                    self._unknowable = "%s: %s" % (child.name(), child._unknowable)
            return
        validator = self.fake._validators.get(self._cls)
        if validator is not None:
            try:
                self._error = validator(self)
            except K.FakeLimitation as exc:
                self._unknowable = str(exc)

    # -- groups
    def nodes(self) -> List["Node"]:
        self._check_alive()
        if not self.is_group():
            raise AttributeError("%s is not a group" % self._cls)
        return list(self._children)

    def node(self, name: str) -> Optional["Node"]:
        for child in self.nodes():
            if child.name() == name:
                return child
        return None

    def begin(self) -> "Node":
        self._check_alive()
        if not self.is_group():
            raise AttributeError("%s is not a group" % self._cls)
        self.fake._context.append(self)
        return self

    def end(self) -> None:
        if not self.fake._context or self.fake._context[-1] is not self:
            raise RuntimeError("end() on %s, which is not the current group" % self.name())
        self.fake._context.pop()

    def __enter__(self) -> "Node":
        return self.begin()

    def __exit__(self, *exc: Any) -> None:
        self.end()

    def __repr__(self) -> str:
        if self._deleted:
            return "<fake deleted node>"
        return "<fake %s %s>" % (self._cls, self.fullName() if self._parent is not None else "root")


def validate_assert(node: Node) -> Optional[str]:
    """An Assert node's error: its message where its expression is 0 (public ports raise their Nuke version errors
    this way). An expression the fake cannot evaluate makes the error unknowable (FakeLimitation)."""
    if node["disable"].value():
        return None
    if node["expression"].value():
        return None
    return node["message"].value() or "Assert failed"
