"""An eager re-statement of upstream's inference pipeline, used as the oracle for parity tests.

Written independently of exporter/scripted/nuke_module.py on purpose: torchvision's resize and normalize (what upstream
calls), the refiner scaled by a forward hook (how upstream applies refiner strength), and the sRGB curve and
despill spelled out step by step as in reference/corridorkey.md. Upstream's CPU post-processing (its CLI
default) is restated with the OpenCV calls it makes: Lanczos-4 resize and the connected-component matte clean-up.
"""
import cv2
import numpy as np
import torch
import torchvision.transforms.v2.functional as TF
from torchvision.transforms import InterpolationMode


def srgb_encode(linear: torch.Tensor) -> torch.Tensor:
    x = torch.clamp(linear, min=0.0)
    low = x * 12.92
    high = 1.055 * torch.pow(x, 1.0 / 2.4) - 0.055
    return torch.where(x <= 0.0031308, low, high)


def despill(image: torch.Tensor, strength: float) -> torch.Tensor:
    if strength <= 0.0:
        return image
    r, g, b = image[:, 0], image[:, 1], image[:, 2]
    spill = torch.clamp(g - (r + b) / 2.0, min=0.0)
    out = torch.stack([r + spill * 0.5, g - spill, b + spill * 0.5], dim=1)
    return image * (1.0 - strength) + out * strength if strength < 1.0 else out


def predict(network, plate: torch.Tensor, linear: bool = False, refiner_scale: float = 1.0):
    """Pre-processing and the network at model size: (alpha, fg), each [1, C, res, res]."""
    res = network.resolution
    image = TF.resize(plate[:, :3], [res, res], interpolation=InterpolationMode.BILINEAR)
    if linear:
        image = srgb_encode(image)
    hint = TF.resize(plate[:, 3:4], [res, res], interpolation=InterpolationMode.BILINEAR)
    image = TF.normalize(image, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    handle = None
    if refiner_scale != 1.0:
        handle = network.refiner.register_forward_hook(lambda module, args, output: output * refiner_scale)
    try:
        with torch.no_grad():
            return network(torch.cat([image, hint], dim=1), torch.ones(1))
    finally:
        if handle is not None:
            handle.remove()


def run_upstream_pipeline(network, plate: torch.Tensor, despill_strength: float = 0.0, linear: bool = False,
                          refiner_scale: float = 1.0) -> torch.Tensor:
    """Upstream's GPU post-processing. plate: [1, 4, H, W] (RGB + hint). Returns despilled straight sRGB fg + alpha."""
    h, w = plate.shape[2], plate.shape[3]
    alpha, fg = predict(network, plate, linear, refiner_scale)
    alpha = TF.resize(alpha, [h, w], interpolation=InterpolationMode.BILINEAR)
    fg = TF.resize(fg, [h, w], interpolation=InterpolationMode.BILINEAR)
    return torch.cat([despill(fg, despill_strength / 10.0), alpha], dim=1)


def clean_matte(alpha: np.ndarray, min_area: int) -> np.ndarray:
    """Upstream's CPU matte clean-up on an [H, W] float32 alpha: islands, dilation 25, blur 5 (11 x 11)."""
    mask = (alpha > 0.5).astype(np.uint8) * 255
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    big = np.zeros(count, dtype=bool)
    big[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_area
    kept = np.where(big[labels], 255, 0).astype(np.uint8)
    kept = cv2.dilate(kept, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (51, 51)))
    kept = cv2.GaussianBlur(kept, (11, 11), 0)
    return alpha * (kept.astype(np.float32) / 255.0)


def run_upstream_cli_pipeline(network, plate: torch.Tensor, despill_strength: float = 0.0, linear: bool = False,
                              refiner_scale: float = 1.0, despeckle_size=None) -> torch.Tensor:
    """Upstream's CPU post-processing (the CLI's default): Lanczos-4 back to the plate, optional clean-up."""
    h, w = plate.shape[2], plate.shape[3]
    alpha, fg = predict(network, plate, linear, refiner_scale)
    alpha_np = cv2.resize(alpha[0, 0].float().numpy(), (w, h), interpolation=cv2.INTER_LANCZOS4).reshape(h, w)
    fg_np = cv2.resize(fg[0].permute(1, 2, 0).float().numpy(), (w, h), interpolation=cv2.INTER_LANCZOS4)
    if despeckle_size is not None:
        alpha_np = clean_matte(alpha_np, despeckle_size)
    fg_t = torch.from_numpy(np.ascontiguousarray(fg_np.reshape(h, w, 3))).permute(2, 0, 1)[None]
    return torch.cat([despill(fg_t, despill_strength / 10.0), torch.from_numpy(alpha_np)[None, None]], dim=1)
