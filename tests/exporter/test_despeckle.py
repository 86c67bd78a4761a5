"""Upstream's matte clean-up in TorchScript against the OpenCV calls it restates, on hand-made mattes."""
import cv2
import numpy as np
import pytest
import torch

from exporter.scripted.components import keep_large_components
from exporter.scripted.despeckle import blur_mask_11, despeckle, dilate_ellipse_51
from tests.upstream_reference import clean_matte

keep_scripted = torch.jit.script(keep_large_components)
dilate_scripted = torch.jit.script(dilate_ellipse_51)
blur_scripted = torch.jit.script(blur_mask_11)
despeckle_scripted = torch.jit.script(despeckle)


def _areas(mask: np.ndarray) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    area = stats[:, cv2.CC_STAT_AREA].copy()
    area[0] = 0
    return np.where(mask, area[labels], 0)


def _assert_components_exact(mask: np.ndarray) -> None:
    """Every threshold at and around the real areas keeps exactly the islands OpenCV's labels give."""
    areas = _areas(mask)
    sizes = sorted(set(areas[mask].tolist()))
    for threshold in {0, 1, 2} | set(sizes[:5]) | set(sizes[-3:]) | {s + 1 for s in sizes[:5]}:
        kept = keep_scripted(torch.from_numpy(mask), threshold).numpy()
        assert (kept == (mask & (areas >= threshold))).all(), threshold


def _spiral(n: int) -> np.ndarray:
    """One long 1-px-wide path that winds inwards: the worst case for label propagation."""
    mask = np.zeros((n, n), dtype=bool)
    x0, y0, x1, y1 = 0, 0, n - 1, n - 1
    while x0 <= x1 and y0 <= y1:
        mask[y0, x0:x1 + 1] = mask[y0:y1 + 1, x1] = mask[y1, x0:x1 + 1] = True
        mask[y0 + 2:y1 + 1, x0] = True
        mask[y0 + 2, x0:x0 + 2] = True
        x0, y0, x1, y1 = x0 + 2, y0 + 2, x1 - 2, y1 - 2
    return mask


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (2, 2), (3, 5), (64, 64), (65, 33), (200, 301)])
@pytest.mark.parametrize("density", [0.0, 0.2, 0.45, 0.6, 1.0])
def test_components_match_opencv_on_random_masks(shape, density):
    _assert_components_exact(np.random.default_rng(hash(shape) % 1000).random(shape) < density)


@pytest.mark.parametrize("mask", [_spiral(301), _spiral(301).T.copy(), np.eye(97, dtype=bool),
                                  np.eye(97, dtype=bool)[::-1].copy(), np.indices((60, 80)).sum(0) % 2 == 0],
                         ids=["spiral", "spiral-transposed", "diagonal", "anti-diagonal", "checkerboard"])
def test_components_match_opencv_on_adversarial_masks(mask):
    _assert_components_exact(mask)


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (30, 40), (120, 97)])
@pytest.mark.parametrize("density", [0.0, 0.001, 0.02, 0.5, 1.0])
def test_dilation_and_blur_are_opencv_bit_for_bit(shape, density):
    mask = np.random.default_rng(7).random(shape) < density
    ellipse = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (51, 51))
    dilated = cv2.dilate(mask.astype(np.uint8) * 255, ellipse) > 0
    assert (dilate_scripted(torch.from_numpy(mask)).numpy() == dilated).all()
    blurred = cv2.GaussianBlur(mask.astype(np.uint8) * 255, (11, 11), 0)
    assert (blur_scripted(torch.from_numpy(mask)).numpy() == blurred).all()


def _matte(height: int, width: int) -> np.ndarray:
    return np.zeros((height, width), dtype=np.float32)


def _dots_around_the_threshold() -> np.ndarray:
    alpha = _matte(160, 220)
    alpha[10:30, 10:30] = 0.9          # 400 px: kept at size 400
    alpha[10:31, 60:79] = 0.8          # 399 px: removed
    alpha[60:80, 10:30] = 0.5          # exactly 0.5 is not above the threshold
    alpha[60:80, 60:80] = 0.5001       # just above
    alpha[120:140, 120:140] = np.linspace(0.45, 0.55, 20, dtype=np.float32)[None, :]  # straddles 0.5
    alpha[100:102, 180:182] = 1.0      # a 4-px tracking dot
    return alpha


def _subject_with_holes_and_hair() -> np.ndarray:
    y, x = np.mgrid[0:240, 0:200]
    alpha = np.clip(1.5 - np.hypot(y - 120, x - 100) / 50.0, 0.0, 1.0).astype(np.float32)
    alpha[110:114, 95:99] = 0.0                      # a hole
    alpha[40:60, 100] = 0.7                          # a 1-px strand hanging off the subject
    alpha[np.arange(150, 230), np.arange(20, 100)] = 0.8   # a detached diagonal 1-px strand (80 px)
    alpha[5, 5:190] = 0.95                            # a long detached horizontal hair (185 px)
    return alpha


def _diagonal_islands() -> np.ndarray:
    alpha = _matte(90, 90)
    alpha[10:30, 10:20] = 0.9   # 200 px
    alpha[30:50, 20:30] = 0.9   # 200 px, touching the first only at a corner: one 400-px island
    alpha[60:70, 60:70] = 0.9   # 100 px
    alpha[70:80, 71:81] = 0.9   # 100 px, one column apart: separate
    return alpha


def _matte_touching_the_edges() -> np.ndarray:
    alpha = _matte(70, 110)
    alpha[:, :25] = 0.9          # down the whole left edge
    alpha[:12, 60:] = 0.75       # along the top and into the right edge
    alpha[-3:, 80:84] = 0.9      # a small dot on the bottom edge
    return alpha


MATTES = {
    "dots-around-threshold": _dots_around_the_threshold(),
    "subject-holes-hair": _subject_with_holes_and_hair(),
    "diagonal-islands": _diagonal_islands(),
    "touching-edges": _matte_touching_the_edges(),
    "empty": _matte(50, 70),
    "full": np.full((50, 70), 0.8, dtype=np.float32),
    "one-pixel": np.full((1, 1), 0.9, dtype=np.float32),
}


@pytest.mark.parametrize("name", sorted(MATTES))
@pytest.mark.parametrize("size", [0, 1, 200, 399, 400, 401, 100000])
def test_despeckle_matches_upstream_clean_matte(name, size):
    alpha = MATTES[name]
    ours = despeckle_scripted(torch.from_numpy(alpha), size).numpy()
    theirs = clean_matte(alpha, size)
    assert ours.shape == theirs.shape
    assert (np.abs(ours - theirs) <= np.abs(alpha) / 255.0 + 1e-4).all()


def test_the_threshold_is_exact_on_the_dots():
    alpha = MATTES["dots-around-threshold"]
    ours = despeckle_scripted(torch.from_numpy(alpha), 400).numpy()
    assert ours[20, 20] == pytest.approx(0.9)     # 400 px: kept
    assert ours[20, 70] == 0.0                    # 399 px, farther than the 25-px margin from a kept island
    assert ours[70, 20] == 0.0                    # 400 px at exactly 0.5: not part of the matte
    assert ours[70, 70] == pytest.approx(0.5001)  # 400 px just above 0.5: kept
    assert ours[101, 181] == 0.0                  # the tracking dot


def test_despeckle_runs_on_any_dtype_device_of_its_input():
    alpha = torch.from_numpy(MATTES["subject-holes-hair"]).double()
    out = despeckle_scripted(alpha, 400)
    assert out.dtype == torch.float64 and torch.isfinite(out).all()
