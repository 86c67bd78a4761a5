"""The gizmo's native nodes in numpy: the despill and colour maths after the Inference node, the built-in hint
before it and the preview outputs.

The model returns straight (un-premultiplied) sRGB foreground and linear alpha. The gizmo converts the
foreground with a Colorspace node (sRGB -> linear, the exact IEC 61966-2-1 curve built into Nuke) and then
premultiplies, which reproduces upstream's "processed" pass. The network's Inference node runs with the model's
despill and despeckle off (node_graph.network_held), the CleanUp node on its result with Clean-up Only on
(node_graph.clean_up_held); the Despill node after them, the built-in hint and the preview are evaluated from the
expressions the gizmo writer puts into those nodes (tools/render_check/nuke_expression.py), with the values of
nuke_plugin/contract/node_graph.py.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np

from nuke_plugin.contract.knob_spec import DESPILL_STRENGTH, KNOBS
from nuke_plugin.contract.node_graph import (
    HINT_BACKING,
    HINT_ERODE,
    HINT_SOURCE,
    PREVIEW_COLOUR,
    SELECT_BUILTIN,
    clean_up_held,
    network_held,
)
from nuke_plugin.core.gizmo import (
    OUTPUT_MODE,
    despill_knobs,
    hint_erode_expression,
    hint_key_knobs,
    hint_select_expression,
    preview_background_expressions,
)

from .nuke_expression import Context, evaluate, expression_node, image_context


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    """Exact piecewise sRGB decoding; negatives clamp to 0 first, as the exporter's curve does."""
    x = np.clip(np.asarray(x, dtype=np.float32), 0.0, None)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    """Exact piecewise sRGB encoding; negatives clamp to 0 first."""
    x = np.clip(np.asarray(x, dtype=np.float32), 0.0, None)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * x ** (1.0 / 2.4) - 0.055).astype(np.float32)


def premultiply(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Nuke's Premult on [H, W, 3] colour and [H, W] alpha."""
    return rgb * alpha[..., None]


def network_knobs(knobs: Dict[str, Any]) -> Dict[str, Any]:
    """The knob values the gizmo's network node runs the model with: the gizmo's, but those a node after it
    applies held at the value the node holds."""
    return dict(knobs, **{name: value for name, value in network_held(KNOBS).items() if name in knobs})


def clean_up_knobs(knobs: Dict[str, Any]) -> Dict[str, Any]:
    """The knob values the gizmo's CleanUp node runs the model with, on the network node's result."""
    return dict(knobs, **{name: value for name, value in clean_up_held(KNOBS).items() if name in knobs})


def despill(model_output: np.ndarray, strength: float) -> np.ndarray:
    """The Despill node on the Inference node's output [1, 4, H, W] (straight sRGB foreground + alpha), evaluated
    from the knob text the gizmo writer gives it: the same layout back, float32."""
    rgba = np.transpose(model_output[0], (1, 2, 0))
    out = expression_node(rgba, despill_knobs(), {DESPILL_STRENGTH.name: strength})
    return np.transpose(out, (2, 0, 1))[None].astype(np.float32)


def gizmo_output(model_output: np.ndarray):
    """Output of the gizmo's Despill node [1, 4, H, W] -> (premultiplied linear RGB [H, W, 3], alpha [H, W]): the
    gizmo's result."""
    fg_srgb = np.transpose(model_output[0, 0:3], (1, 2, 0))
    alpha = model_output[0, 3]
    return premultiply(srgb_to_linear(fg_srgb), alpha), alpha


def over(premultiplied: np.ndarray, alpha: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Merge (over) in linear light: A + B * (1 - a)."""
    return premultiplied + background * (1.0 - alpha[..., None])


# -- The gizmo's native nodes around the model, replicated from the very knob text the gizmo writer produces.
def node_knob_defaults() -> Dict[str, Any]:
    """The gizmo's own knobs that its native nodes read (enumerations as their index, as expressions see them)."""
    return {HINT_SOURCE.name: HINT_SOURCE.default, HINT_BACKING.name: HINT_BACKING.default,
            HINT_ERODE.name: HINT_ERODE.default, OUTPUT_MODE.name: OUTPUT_MODE.default,
            PREVIEW_COLOUR.name: PREVIEW_COLOUR.default}


def dilate(channel: np.ndarray, size: float) -> np.ndarray:
    """Nuke's Dilate ("Erode (fast)"): the maximum (size > 0) or minimum (size < 0) over a square of
    2 * round(|size|) + 1 pixels, as Foundry's NDK example of that class computes it; pixels beyond the image repeat
    its edge, as Nuke reads outside a bounding box."""
    radius = int(abs(size) + 0.5)
    if radius == 0:
        return channel.astype(np.float32)
    pick = np.minimum if size < 0 else np.maximum
    out = channel.astype(np.float32)
    for axis in (1, 0):
        padded = np.pad(out, [(radius, radius) if a == axis else (0, 0) for a in (0, 1)], mode="edge")
        result = np.take(padded, np.arange(out.shape[axis]), axis=axis)
        for offset in range(1, 2 * radius + 1):
            result = pick(result, np.take(padded, np.arange(offset, offset + out.shape[axis]), axis=axis))
        out = result
    return out


def builtin_hint(plate_rgb: np.ndarray, knobs: Optional[Dict[str, Any]] = None) -> np.ndarray:
    """HintKey then HintErode on a plate [H, W, 3] (the plate as it enters the node, format = the array): [H, W]."""
    values = dict(node_knob_defaults(), **(knobs or {}))
    rgba = np.concatenate([plate_rgb.astype(np.float32), np.zeros(plate_rgb.shape[:2] + (1,), np.float32)], axis=-1)
    keyed = expression_node(rgba, hint_key_knobs(), values)[..., 3]
    size = evaluate(hint_erode_expression(), Context({}, values))
    return dilate(keyed, float(size))


def hint_select(knobs: Optional[Dict[str, Any]] = None, hint_connected: bool = False) -> int:
    """HintSelect's input for these knobs: SELECT_BUILTIN or SELECT_INPUT."""
    values = dict(node_knob_defaults(), **(knobs or {}))
    return int(evaluate(hint_select_expression(), Context({}, values, {1: hint_connected})))


def model_hint(plate_rgb: np.ndarray, hint_input: Optional[np.ndarray],
               knobs: Optional[Dict[str, Any]] = None) -> np.ndarray:
    """The alpha CopyHint puts into the model's input: the built-in hint, or the Hint input's (already chosen
    channel, clamped by HintToAlpha) when it is connected or forced; black when forced and unconnected."""
    if hint_select(knobs, hint_input is not None) == SELECT_BUILTIN:
        return builtin_hint(plate_rgb, knobs)
    if hint_input is None:
        return np.zeros(plate_rgb.shape[:2], np.float32)
    return np.clip(hint_input, 0.0, 1.0).astype(np.float32)


def preview(straight_linear: np.ndarray, alpha: np.ndarray, mode: int,
            knobs: Optional[Dict[str, Any]] = None) -> np.ndarray:
    """Output: Over checkerboard / Over colour: PreviewPremult over PreviewBackground (Merge2 over), [H, W, 4]."""
    values = dict(node_knob_defaults(), **(knobs or {}))
    values[OUTPUT_MODE.name] = mode
    straight = np.concatenate([straight_linear, alpha[..., None]], axis=-1).astype(np.float32)
    context = image_context(straight, values)
    background = np.stack([np.broadcast_to(evaluate(text, context), alpha.shape)
                           for text in preview_background_expressions()] + [np.ones(alpha.shape)], axis=-1)
    premultiplied = np.concatenate([premultiply(straight_linear, alpha), alpha[..., None]], axis=-1)
    return (premultiplied + background * (1.0 - alpha[..., None])).astype(np.float32)
