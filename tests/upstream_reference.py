"""An eager re-statement of upstream's inference pipeline, used as the oracle for parity tests.

Written independently of exporter/nuke_module.py on purpose: torchvision's resize and normalize (what upstream
calls), the refiner scaled by a forward hook (how upstream applies refiner strength), and the sRGB curve and
despill spelled out step by step as in reference/corridorkey.md.
"""
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


def run_upstream_pipeline(network, plate: torch.Tensor, despill_strength: float = 0.0, linear: bool = False,
                          refiner_scale: float = 1.0) -> torch.Tensor:
    """plate: [1, 4, H, W] (RGB + hint). Returns [1, 4, H, W]: despilled straight sRGB fg + alpha."""
    res = network.resolution
    h, w = plate.shape[2], plate.shape[3]
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
            alpha, fg = network(torch.cat([image, hint], dim=1), torch.ones(1))
    finally:
        if handle is not None:
            handle.remove()
    alpha = TF.resize(alpha, [h, w], interpolation=InterpolationMode.BILINEAR)
    fg = TF.resize(fg, [h, w], interpolation=InterpolationMode.BILINEAR)
    return torch.cat([despill(fg, despill_strength / 10.0), alpha], dim=1)
