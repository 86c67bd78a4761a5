"""Lays labelled panels out on one PNG; written to a temporary file and renamed, never left half-written."""
from __future__ import annotations

from pathlib import Path
from typing import List, Sequence, Tuple

import numpy as np

from nuke_plugin.contract.files import atomic_write

LABEL_HEIGHT = 22
GAP = 6
BACKGROUND = (32, 32, 32)
TEXT = (230, 230, 230)


def to_display(image: np.ndarray) -> np.ndarray:
    """Display-encoded float [H, W] or [H, W, 3] in 0-1 -> uint8 RGB."""
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one bitmap size only
        return ImageFont.load_default()


def contact_sheet(panels: Sequence[Tuple[str, np.ndarray]], columns: int, notes: List[str]):
    """Panels (label, uint8 [H, W, 3], all one size) in a grid, then a panel of text notes. Returns a PIL image."""
    from PIL import Image, ImageDraw

    height, width = panels[0][1].shape[:2]
    count = len(panels) + (1 if notes else 0)
    rows = (count + columns - 1) // columns
    cell_h = LABEL_HEIGHT + height
    sheet = Image.new("RGB", (columns * width + (columns + 1) * GAP, rows * cell_h + (rows + 1) * GAP), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    label_font, note_font = _font(15), _font(13)
    for index in range(count):
        left = GAP + (index % columns) * (width + GAP)
        top = GAP + (index // columns) * (cell_h + GAP)
        if index < len(panels):
            label, pixels = panels[index]
            draw.text((left + 2, top + 3), label, fill=TEXT, font=label_font)
            sheet.paste(Image.fromarray(pixels, "RGB"), (left, top + LABEL_HEIGHT))
        else:
            draw.text((left + 2, top + 3), "run", fill=TEXT, font=label_font)
            for line_no, line in enumerate(notes):
                draw.text((left + 4, top + LABEL_HEIGHT + 4 + 17 * line_no), line, fill=TEXT, font=note_font)
    return sheet


def save_png(image, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(str(path), lambda handle: image.save(handle, format="PNG"))
