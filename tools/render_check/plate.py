"""A synthetic green-screen plate with a known matte: soft edges, motion blur, fine strands, a
semi-transparent veil and green spill, plus the coarse eroded hint an artist would give the keyer.

Everything is built in linear light (`linear`, what a Read delivers into a linear script: Input Gamma Linear, the
gizmo's default) and also encoded to sRGB (`rgb`, a plate read "raw sRGB": Input Gamma sRGB). PlateOptions vary it
(a noisier camera, heavier spill, softer edges, a second colour in the subject, another screen colour) for the
built-in hint's figures (HINT_PLATES). Pure numpy, seeded, no files.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import numpy as np

from .gizmo_maths import linear_to_srgb


@dataclass(frozen=True)
class PlateOptions:
    """What varies between synthetic plates; the defaults make the render check's plate."""

    screen: Tuple[float, float, float] = (0.04, 0.42, 0.07)  # linear screen colour at the frame's centre
    screen_noise: float = 0.004  # sensor noise on the screen, linear
    camera_noise: float = 0.0  # noise on every pixel, subject included, linear
    spill: float = 0.05  # green added to the subject's colour
    softness: int = 1  # radius of the edge blur, pixels
    second_colour: bool = False  # blue trousers and a yellow sleeve (a colour close to green) on the subject


@dataclass
class Plate:
    rgb: np.ndarray  # [H, W, 3] sRGB-encoded plate
    hint: np.ndarray  # [H, W] coarse alpha hint, linear 0-1
    alpha: np.ndarray  # [H, W] the true matte the plate was composited with
    foreground: np.ndarray  # [H, W, 3] the true straight foreground, sRGB: what a perfect keyer returns
    screen: np.ndarray  # [H, W, 3] the green screen behind the subject, linear
    linear: np.ndarray  # [H, W, 3] the same plate, linear

    def ideal_output(self) -> np.ndarray:
        """What a perfect model would return for this plate, [1, 4, H, W] (straight sRGB fg + linear alpha)."""
        return np.concatenate([np.transpose(self.foreground, (2, 0, 1)), self.alpha[None]])[None].astype(np.float32)

    def model_input(self, linear: bool = False, hint: Optional[np.ndarray] = None) -> np.ndarray:
        """The Inference node's input [1, 4, H, W]: plate RGB (sRGB-encoded, or linear for Input Gamma Linear) + a
        hint (default: this plate's eroded one) in the alpha channel."""
        rgb = self.linear if linear else self.rgb
        alpha = self.hint if hint is None else hint
        return np.concatenate([np.transpose(rgb, (2, 0, 1)), alpha[None]])[None].astype(np.float32)


def box_blur(image: np.ndarray, radius: int, axis: int) -> np.ndarray:
    """Mean over 2*radius+1 pixels along one axis, edges extended (a running sum, so any radius is cheap)."""
    if radius <= 0:
        return image
    pad = [(0, 0)] * image.ndim
    pad[axis] = (radius + 1, radius)
    summed = np.cumsum(np.pad(image, pad, mode="edge"), axis=axis, dtype=np.float64)
    size = image.shape[axis]
    upper = np.take(summed, np.arange(2 * radius + 1, 2 * radius + 1 + size), axis=axis)
    lower = np.take(summed, np.arange(0, size), axis=axis)
    return ((upper - lower) / (2 * radius + 1)).astype(np.float32)


def soften(image: np.ndarray, radius: int) -> np.ndarray:
    """A near-Gaussian blur: three box passes along each image axis."""
    for axis in (0, 1):
        for _ in range(3):
            image = box_blur(image, radius, axis)
    return image


def erode(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary erosion with a square: a pixel stays only when its whole neighbourhood is inside."""
    inside = (mask > 0.5).astype(np.float32)
    return (box_blur(box_blur(inside, radius, 0), radius, 1) > 0.999).astype(np.float32)


def synthetic_plate(height: int = 270, width: int = 480, seed: int = 0,
                    options: Optional[PlateOptions] = None) -> Plate:
    opts = options or PlateOptions()
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    u, v = x / width, y / height
    scale = min(height, width)

    # Hard-edged shapes in the frame: a head, a torso, an arm, and a veil of 40% opacity.
    head = ((x - 0.5 * width) ** 2 + (y - 0.3 * height) ** 2) < (0.13 * scale) ** 2
    torso = ((x - 0.5 * width) / (0.2 * scale)) ** 2 + ((y - 0.85 * height) / (0.42 * scale)) ** 2 < 1.0
    arm = (np.abs((y - 0.62 * height) - 0.35 * (x - 0.62 * width)) < 0.035 * scale) & (x > 0.52 * width) & (
        x < 0.82 * width)
    veil = (u > 0.12) & (u < 0.3) & (v > 0.2) & (v < 0.8)
    solid = (head | torso | arm).astype(np.float32)
    alpha = np.maximum(solid, 0.4 * veil.astype(np.float32))

    # Fine strands ("hair") above the head, one pixel wide and partly transparent.
    for angle in np.linspace(-1.1, 1.1, 9):
        t = np.linspace(0.12 * scale, 0.24 * scale, 200)
        px = np.clip((0.5 * width + np.sin(angle) * t).astype(int), 0, width - 1)
        py = np.clip((0.3 * height - np.cos(angle) * t).astype(int), 0, height - 1)
        alpha[py, px] = np.maximum(alpha[py, px], 0.7)

    # Soft edges, then horizontal motion blur of the whole foreground layer (colour premultiplied).
    alpha = soften(alpha, opts.softness)
    skin = np.array([0.62, 0.36, 0.24], np.float32)
    shirt = np.array([0.55, 0.08, 0.06], np.float32)
    glass = np.array([0.7, 0.75, 0.8], np.float32)
    colour = np.where(torso[..., None] | arm[..., None], shirt, skin)
    if opts.second_colour:
        colour = np.where((torso & (y > 0.9 * height))[..., None], np.array([0.04, 0.07, 0.16], np.float32), colour)
        colour = np.where(arm[..., None], np.array([0.5, 0.45, 0.05], np.float32), colour)
    colour = np.where(veil[..., None] & (solid[..., None] < 0.5), glass, colour)
    stripes = 0.75 + 0.25 * np.sin(x / 3.0)[..., None]
    colour = colour * np.where(torso[..., None], stripes, 1.0)
    colour[..., 1] += opts.spill  # green spill on the subject
    blur = max(1, int(0.012 * width))
    premultiplied = box_blur(colour * alpha[..., None], blur, axis=1)
    alpha = box_blur(alpha, blur, axis=1)

    # Evenly lit green screen with a little fall-off and sensor noise.
    falloff = 1.0 - 0.25 * ((u - 0.5) ** 2 + (v - 0.45) ** 2)
    screen = np.stack([c * falloff for c in opts.screen], axis=-1)
    screen = screen + rng.normal(0.0, opts.screen_noise, size=screen.shape).astype(np.float32)
    linear = premultiplied + screen * (1.0 - alpha[..., None])
    if opts.camera_noise:
        linear = linear + rng.normal(0.0, opts.camera_noise, size=linear.shape).astype(np.float32)

    hint = soften(erode(alpha, max(2, int(0.015 * scale))), 2)
    covered = alpha[..., None] > 1e-4
    straight = np.where(covered, premultiplied / np.where(covered, alpha[..., None], 1.0), 0.0)
    return Plate(rgb=linear_to_srgb(linear), hint=np.clip(hint, 0.0, 1.0), alpha=np.clip(alpha, 0.0, 1.0),
                 foreground=linear_to_srgb(straight), screen=screen, linear=linear.astype(np.float32))


# The plates the built-in hint is measured on (benchmarks/bench_builtin_hint.py; tests assert its bars on some):
# name -> (options, the Backing Colour an artist leaving the default would have, None for the default). Each has
# a camera's noise on every pixel, subject included, where the render check's plate has it on the screen only.
NOISE = 0.004
HINT_PLATES: Dict[str, Tuple[PlateOptions, Optional[Tuple[float, float, float]]]] = {
    "render check plate": (PlateOptions(camera_noise=NOISE), None),
    "camera noise x8": (PlateOptions(camera_noise=8 * NOISE), None),
    "heavy spill": (PlateOptions(camera_noise=NOISE, spill=0.2), None),
    "soft edges": (PlateOptions(camera_noise=NOISE, softness=4), None),
    "second colour": (PlateOptions(camera_noise=NOISE, second_colour=True), None),
    "dull screen": (PlateOptions(camera_noise=NOISE, screen=(0.12, 0.30, 0.13)), None),
    "yellowish screen": (PlateOptions(camera_noise=NOISE, screen=(0.16, 0.42, 0.03)), None),
    "bluish green screen": (PlateOptions(camera_noise=NOISE, screen=(0.03, 0.42, 0.22)), None),
    "bright screen": (PlateOptions(camera_noise=NOISE, screen=(0.10, 0.85, 0.15)), None),
    "dark screen": (PlateOptions(camera_noise=NOISE, screen=(0.015, 0.12, 0.025)), None),
    "blue screen, Backing Colour blue": (PlateOptions(camera_noise=NOISE, screen=(0.03, 0.08, 0.45), spill=0.0),
                                         (0.25, 0.3, 0.6)),
}
