"""A test renderer for graphs the plugin makes: it stands in for Nuke's renderer where the fake computes no pixels.

It draws Constant and Expression plates, and a gizmo that holds Inference nodes (CorridorKey, the self-test's
CorridorKeySelfTest) the way Nuke's Inference node runs a .cat: the TorchScript file the fake .cat names, each
custom knob's value (as the fake Inference node holds it after serialiseKnob) set as a module attribute, forward on
[1, 4, H, W] (plate RGB, the hint's alpha), the CleanUp node the same way on the network node's result, then the
Despill node, sRGB -> linear and Premult as the gizmo's nodes do. The Despill node, the built-in hint and the
previews are drawn by the numpy replica (tools/render_check) evaluating the text the fake's nodes hold, so a change
to the gizmo's expressions shows in the pixels. Before
drawing, every node is checked as Nuke checks it before a render, so a node error (a missing .cat, an Assert) stops
the render with that error. Needs torch and numpy, imported when it draws (so the fast tier can import this module).
"""
from __future__ import annotations

from typing import Any, Dict, Tuple

from nuke_plugin import contract
from nuke_plugin.contract import node_graph
from nuke_plugin.contract.knob_spec import DESPILL_STRENGTH, KNOBS
from nuke_plugin.contract.node_graph import HINT_BACKING, HINT_ERODE, HINT_SOURCE, PREVIEW_COLOUR
from nuke_plugin.core.gizmo import (
    OUTPUT_HINT,
    OUTPUT_MODE,
    OUTPUT_OVER_CHECKERBOARD,
    OUTPUT_OVER_COLOUR,
    despill_knobs,
    hint_key_knobs,
)


class Renderer(object):
    """Replaces the fake's nuke.execute and nuke.sample: renders a Write's input into memory, samples it back.
    `upside_down` hands the model the image bottom row first (to show the self-test catches it)."""

    def __init__(self, fake: Any, upside_down: bool = False) -> None:
        self.fake = fake
        self.upside_down = upside_down
        self.images: Dict[str, Any] = {}

    def execute(self, write: Any, start: int, end: int, incr: int = 1) -> None:
        source = write.input(0)
        source.forceValidate()
        if source.hasError():
            raise RuntimeError("%s: %s" % (source.name(), source.error_message()))
        self.images[write["file"].value()] = self.image(source)

    def sample(self, node: Any, channel: str, x: float, y: float, dx: float = 1.0, dy: float = 1.0,
               frame: Any = None) -> float:
        image = self.images[node["file"].value()]
        return float(image[contract.CHANNELS_OUT.index(channel), image.shape[1] - 1 - int(y), int(x)])

    def size(self, constant: Any) -> Tuple[int, int]:
        """(width, height) of a Constant's format: 'W H ...' or a name given to nuke.addFormat."""
        text = constant["format"].value()
        for known in self.fake.fake_formats:
            if known.split()[-1] == text:
                text = known
        width, height = text.split()[:2]
        return int(width), int(height)

    def image(self, node: Any) -> Any:
        import torch

        if node.Class() == "Constant":
            width, height = self.size(node)
            colour = torch.tensor([float(v) for v in node["color"].value()], dtype=torch.float32)
            return colour.view(4, 1, 1).expand(4, height, width).clone()
        if node.Class() == "Expression":
            width, height = self.size(node.input(0))
            ys = torch.arange(height - 1, -1, -1, dtype=torch.float64).view(-1, 1).expand(height, width)
            xs = torch.arange(width, dtype=torch.float64).view(1, -1).expand(height, width)
            return torch.stack([eval(node["expr%d" % c].value(), {}, {"x": xs, "y": ys}) * torch.ones_like(xs)
                                for c in range(4)]).float()
        inference = [n for n in node.nodes() if n.Class() == "Inference"] if node.is_group() else []
        if not inference:
            raise RuntimeError("the test renderer draws plates and Inference gizmos only, not %s" % node.Class())
        network = node.node(node_graph.NETWORK_NODE)
        return self.gizmo(node, network if network is not None else inference[0])

    def run_model(self, inference: Any, image: Any) -> Any:
        """One Inference node on a [4, H, W] image: its .cat's TorchScript with the node's knob values."""
        import torch

        module = torch.jit.load(inference.fake_cat["torchScriptFile"], map_location="cpu")
        for knob in KNOBS:
            if inference.knob(knob.name) is not None:  # a build from before a knob existed has none
                value = inference[knob.name].getValue()
                setattr(module, knob.name, float(value) if knob.torch_type == "float" else int(value))
        with torch.no_grad():
            source = image.flip(1) if self.upside_down else image
            out = module(source.unsqueeze(0))[0]
            return out.flip(1) if self.upside_down else out

    def gizmo(self, node: Any, inference: Any) -> Any:
        import numpy as np
        import torch

        from tools.render_check.nuke_expression import evaluate, image_context

        knobs = {name: node[name].getValue() for name in (HINT_SOURCE.name, OUTPUT_MODE.name)}  # enums: the index
        knobs.update({name: node[name].value() for name in (HINT_BACKING.name, HINT_ERODE.name, PREVIEW_COLOUR.name)})
        plate = self.image(node.input(0)).clone()
        plate[3] = torch.from_numpy(self.hint(node, plate, knobs))
        mode = int(knobs[OUTPUT_MODE.name])
        if mode == OUTPUT_HINT:
            return plate[3:4].expand(4, -1, -1)
        out = self.run_model(inference, plate)
        clean_up = node.node(node_graph.CLEAN_UP_NODE)
        if clean_up is not None:
            out = self.run_model(clean_up, out)
        out = self.despill(node, out)
        rgb = out[:3].double()
        linear = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4).float()
        alpha = out[3:4]
        if mode in (OUTPUT_OVER_CHECKERBOARD, OUTPUT_OVER_COLOUR):
            straight = np.concatenate([linear.permute(1, 2, 0).numpy(), alpha.permute(1, 2, 0).numpy()], axis=-1)
            context = image_context(straight, knobs)
            background = node.node(node_graph.PREVIEW_BACKGROUND_NODE)
            under = torch.stack([torch.from_numpy(np.broadcast_to(evaluate(background["expr%d" % c].value(), context),
                                                                  straight.shape[:2]).astype(np.float32))
                                 for c in range(3)])
            return torch.cat([linear * alpha + under * (1 - alpha), alpha + (1 - alpha)])
        return [torch.cat([linear * alpha, alpha]), torch.cat([linear, alpha]), alpha.expand(4, -1, -1)][mode]

    def despill(self, node: Any, out: Any) -> Any:
        """The Despill node after the Inference node (if the gizmo has one), as the fake's node holds it, evaluated
        by the numpy replica."""
        import torch

        from tools.render_check.nuke_expression import expression_node

        despill = node.node(node_graph.DESPILL_NODE)
        if despill is None:
            return out
        texts = {name: despill[name].value() for name in despill_knobs()}
        knobs = {DESPILL_STRENGTH.name: node[DESPILL_STRENGTH.name].value()}
        return torch.from_numpy(expression_node(out.permute(1, 2, 0).numpy(), texts, knobs)).permute(2, 0, 1)

    def hint(self, node: Any, plate: Any, knobs: Dict[str, Any]) -> Any:
        """HintSelect, HintKey and HintErode as the fake's nodes hold them, evaluated by the numpy replica."""
        import numpy as np

        from tools.render_check.gizmo_maths import dilate
        from tools.render_check.nuke_expression import Context, evaluate, expression_node

        hint_input = node.input(1)
        which = evaluate(node.node(node_graph.HINT_SELECT_NODE)["which"].expression(),
                         Context({}, knobs, {1: hint_input is not None}))
        if int(which) == node_graph.SELECT_INPUT:
            if hint_input is None:
                return np.zeros(tuple(plate.shape[1:]), np.float32)
            return self.image(hint_input)[3].clamp(0, 1).numpy()
        key = node.node(node_graph.HINT_KEY_NODE)
        texts = {name: key[name].value() for name in hint_key_knobs()}
        keyed = expression_node(plate.permute(1, 2, 0).numpy(), texts, knobs)[..., 3]
        return dilate(keyed, float(evaluate(node.node(node_graph.HINT_ERODE_NODE)["size"].expression(),
                                            Context({}, knobs))))
