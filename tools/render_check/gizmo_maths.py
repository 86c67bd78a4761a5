"""The colour maths the gizmo applies after the Inference node, in numpy.

The model returns straight (un-premultiplied) sRGB foreground and linear alpha. The gizmo converts the
foreground with a Colorspace node (sRGB -> linear, the exact IEC 61966-2-1 curve built into Nuke) and then
premultiplies, which reproduces upstream's "processed" pass. Compositing over a background and encoding
for display are what a viewer does, and are here only to draw the contact sheet.
"""
from __future__ import annotations

import numpy as np


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


def gizmo_output(model_output: np.ndarray):
    """Model output [1, 4, H, W] -> (premultiplied linear RGB [H, W, 3], alpha [H, W]): the gizmo's result."""
    fg_srgb = np.transpose(model_output[0, 0:3], (1, 2, 0))
    alpha = model_output[0, 3]
    return premultiply(srgb_to_linear(fg_srgb), alpha), alpha


def over(premultiplied: np.ndarray, alpha: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Merge (over) in linear light: A + B * (1 - a)."""
    return premultiplied + background * (1.0 - alpha[..., None])
