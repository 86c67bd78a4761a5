"""The top-level module Nuke's Inference node runs: upstream's pre/post-processing around the traced network.

Its stages are methods of their own, exported with the file (`prepare`, `refiner_scale`, `keyed`, `finish`,
`clean_up`), so the exporter's validation can call the saved file's stages one by one: each knob is proven live
where it acts, without a full network pass per knob and whatever the weights make of a probe. `forward` composes
them and is the only method Nuke calls; with Clean-up Only on it runs `clean_up` alone, which lets the gizmo keep
the network's result while the knobs after the resample move.

Why scripted and not traced: Nuke sets the .cat's custom knobs as attributes of this module at render time,
and only a scripted `forward` reads them then (tracing would freeze their values). The heavy network inside
is traced at the model resolution, because timm's Hiera is not scriptable; it only ever sees res x res.

Contract (see nuke_plugin.contract): input [1, 4, H, W] = plate RGB + alpha hint; output [1, 4, H, W] =
straight sRGB foreground RGB + linear alpha, in the input's dtype. Every tensor made here takes the input's
device, so the module works after `.to("cuda")`, and after `.half()` with a half input.
"""

from typing import List

import torch
import torch.nn as nn

from nuke_plugin.contract.knob_spec import (
    AUTO_DESPECKLE,
    CLEAN_UP_ONLY,
    DESPECKLE_SIZE,
    DESPILL_STRENGTH,
    GAMMA_INPUT,
    REFINER_STRENGTH,
    RESAMPLE,
)

from .colour import despill_in_place, imagenet_normalise, linear_to_srgb
from .despeckle import despeckle
from .lanczos import resize_lanczos4

# Largest finite half-precision value: non-finite input pixels are replaced by values every dtype can hold.
_FINITE_LIMIT = 65504.0
# The largest value the network is given (normalised RGB and hint): finite through the network in fp16.
_MODEL_INPUT_LIMIT = 1000.0
_LINEAR = GAMMA_INPUT.items.index("Linear")
_LANCZOS = RESAMPLE.items.index("Lanczos")


def _resize(x: torch.Tensor, size: List[int]) -> torch.Tensor:
    """Bilinear with antialiasing: the behaviour of torchvision's `resize` on tensors, which upstream uses.

    The operator is called directly: scripting `F.interpolate` would compile its whole body, whose newer
    branches (Lanczos in recent torch) name operators that the libtorch of an older Nuke cannot load.
    `_upsample_bilinear2d_aa` itself exists from torch 1.11 on.
    """
    if x.shape[2] == size[0] and x.shape[3] == size[1]:
        return x
    return torch.ops.aten._upsample_bilinear2d_aa(x, size, False, None, None)


class CorridorKeyNuke(nn.Module):
    """Nuke-facing CorridorKey: knob attributes read on every call, network traced at `resolution`."""

    __constants__ = ["resolution", "despill_max", "refiner_max", "gamma_max", "linear_index", "finite_limit",
                     "lanczos_index", "resample_max", "despeckle_max", "input_limit"]

    despill_strength: float
    gamma_input: int
    refiner_strength: float
    resample: int
    auto_despeckle: int
    despeckle_size: int
    clean_up_only: int

    def __init__(self, network: nn.Module, resolution: int) -> None:
        super().__init__()
        self.network = network
        self.resolution = resolution
        self.despill_max = DESPILL_STRENGTH.high
        self.refiner_max = REFINER_STRENGTH.high
        self.gamma_max = len(GAMMA_INPUT.items) - 1
        self.linear_index = _LINEAR
        self.finite_limit = _FINITE_LIMIT
        self.input_limit = _MODEL_INPUT_LIMIT
        self.despill_strength = float(DESPILL_STRENGTH.default)
        self.gamma_input = int(GAMMA_INPUT.default)
        self.refiner_strength = float(REFINER_STRENGTH.default)
        self.lanczos_index = _LANCZOS
        self.resample_max = len(RESAMPLE.items) - 1
        self.despeckle_max = int(DESPECKLE_SIZE.high)
        self.resample = int(RESAMPLE.default)
        self.auto_despeckle = int(AUTO_DESPECKLE.default)
        self.despeckle_size = int(DESPECKLE_SIZE.default)
        self.clean_up_only = int(CLEAN_UP_ONLY.default)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """What Nuke's Inference node calls: plate RGB + hint in, straight sRGB foreground + alpha out. With Clean-up
        Only on, the input is this model's own result instead and only the steps after the resample run on it."""
        if self.clean_up_only > 0:
            return self.clean_up(self.keyed(x[:, 3:4], x[:, 0:3])).to(x.dtype)
        alpha, fg = self.network(self.prepare(x), self.refiner_scale(x))
        return self.finish(self.keyed(alpha, fg), x.shape[2], x.shape[3]).to(x.dtype)

    @torch.jit.export
    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """Steps 1-3, the knobs that act before the network (Input Gamma): the plate as the network's input,
        [N, 4, res, res] in the input's dtype."""
        limit = self.finite_limit
        # Pre/post-processing runs in fp32 whatever the input: the antialiased resize has no CPU kernel in
        # fp16, and these steps are memory-bound, so half precision would only cost accuracy. The network
        # itself runs in the input's dtype (fp16 under Nuke's "Optimize for Speed and Memory").
        work = x[:, 0:4].float()
        # One cheap reduction decides whether the full-frame clean-up pass is needed at all (it rarely is).
        if not bool(torch.isfinite(work.sum())):
            work = torch.nan_to_num(work, nan=0.0, posinf=limit, neginf=-limit)

        # 1-3. Resize in the plate's own transfer, then sRGB-encode a linear plate, then normalise.
        small = _resize(work, [self.resolution, self.resolution]).clamp(-limit, limit)
        rgb = small[:, 0:3]
        if min(max(self.gamma_input, 0), self.gamma_max) == self.linear_index:
            rgb = linear_to_srgb(rgb)
        # Bounded so that half precision cannot overflow: normalising a 65504 pixel gives ~286000, which is
        # inf in fp16 and turns the whole frame to NaN inside the network. The bound is the same in every
        # dtype (fp32 and fp16 agree) and far above anything a display-referred keyer input means.
        model_input = torch.cat([imagenet_normalise(rgb), small[:, 3:4]], dim=1)
        return model_input.clamp(-self.input_limit, self.input_limit).to(x.dtype)

    @torch.jit.export
    def refiner_scale(self, x: torch.Tensor) -> torch.Tensor:
        """Step 4, the knob the network takes as an input (Refiner Strength): the factor on the refiner's delta
        logits, [1] in the input's dtype and on its device."""
        refiner = min(max(self.refiner_strength, 0.0), self.refiner_max)
        return torch.full([1], refiner, dtype=x.dtype, device=x.device)

    @torch.jit.export
    def keyed(self, alpha: torch.Tensor, fg: torch.Tensor) -> torch.Tensor:
        """Step 5: the network's alpha and foreground as one fp32 image, [N, 4, res, res] = fg RGB + alpha."""
        # Finite at model size means finite at any size: resizing and despill cannot make NaN from numbers.
        return torch.nan_to_num(torch.cat([fg, alpha], dim=1).float(), nan=0.0, posinf=1.0, neginf=0.0)

    @torch.jit.export
    def finish(self, keyed: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """Steps 6-7, the knobs that act after the network (Resample, Auto Despeckle, Despeckle Size, Despill
        Strength): a `keyed` image back to the plate's height x width, cleaned and despilled, in fp32.

        It needs nothing from the plate but its size, so it can run apart from the network."""
        # 6. Back to the plate's size, both passes in one resample: upstream's CLI (Lanczos-4) or GPU path.
        keyed = keyed.float()
        if min(max(self.resample, 0), self.resample_max) == self.lanczos_index:
            out = resize_lanczos4(keyed, height, width)
        else:
            out = _resize(keyed, [height, width])
        if out is keyed:
            out = out.clone()

        return self.clean_up(out)

    @torch.jit.export
    def clean_up(self, out: torch.Tensor) -> torch.Tensor:
        """Steps 6b-7 (Auto Despeckle, Despeckle Size, Despill Strength) in place on a plate-sized fp32 image of fg
        RGB + alpha that this stage owns. They act at the plate's size after the resample, so a second node can run
        them alone on the first one's result (Clean-up Only) and give what one node gives with them on."""
        # 6b. Upstream's CLI matte clean-up on the plate-sized alpha, before the despill as upstream orders it.
        if self.auto_despeckle > 0:
            size = min(max(self.despeckle_size, 0), self.despeckle_max)
            for image in range(out.shape[0]):
                out[image, 3] = despeckle(out[image, 3], size)

        # 7. Despill the sRGB foreground in place; the knob is upstream's 0-10 CLI scale.
        despill_in_place(out, min(max(self.despill_strength, 0.0), self.despill_max) / 10.0)
        return out
