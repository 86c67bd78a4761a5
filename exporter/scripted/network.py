"""The CorridorKey network ("GreenFormer"), rebuilt so that its state dict matches the released checkpoint.

Module and attribute names below are dictated by the checkpoint's keys (`encoder.model.*`, `alpha_decoder.*`,
`fg_decoder.*`, `refiner.*`); the code is this project's own.

Unlike upstream, `forward` takes the refiner strength as a tensor argument: a forward hook (upstream's way of
scaling the refiner) does not survive tracing, and a Python float would be frozen into the traced graph.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import timm
import torch
import torch.nn as nn
import torch.nn.functional as F

from nuke_plugin.contract.torch_targets import PORTABLE

from .attention import set_attention

ENCODER_NAME = "hiera_base_plus_224.mae_in1k_ft_in1k"
FEATURE_CHANNELS = (112, 224, 448, 896)
DECODER_WIDTH = 256
REFINER_WIDTH = 64
REFINER_DILATIONS = (1, 2, 4, 8)
REFINER_GAIN = 10.0  # the refiner predicts small numbers that are scaled into logit-sized corrections


class TokenProjection(nn.Module):
    """A per-pixel linear map of a feature map; kept as a module so the key reads `linear_cN.proj.*`."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.proj = nn.Linear(in_dim, out_dim)

    def forward(self, feature: torch.Tensor) -> torch.Tensor:
        n, _, h, w = feature.shape
        tokens = feature.flatten(2).transpose(1, 2)  # [N, HW, C]
        return self.proj(tokens).transpose(1, 2).reshape(n, -1, h, w)


class SegFormerHead(nn.Module):
    """Fuses the four encoder stages at stage-one size and predicts `out_dim` logit maps."""

    def __init__(self, out_dim: int, feature_channels: Sequence[int] = FEATURE_CHANNELS,
                 width: int = DECODER_WIDTH) -> None:
        super().__init__()
        # Registered deepest first: the checkpoint lists its keys in this order.
        self.linear_c4 = TokenProjection(feature_channels[3], width)
        self.linear_c3 = TokenProjection(feature_channels[2], width)
        self.linear_c2 = TokenProjection(feature_channels[1], width)
        self.linear_c1 = TokenProjection(feature_channels[0], width)
        self.linear_fuse = nn.Conv2d(4 * width, width, kernel_size=1, bias=False)
        self.bn = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(0.1)
        self.classifier = nn.Conv2d(width, out_dim, kernel_size=1)

    def forward(self, features: List[torch.Tensor]) -> torch.Tensor:
        c1, c2, c3, c4 = features
        size = (c1.shape[2], c1.shape[3])

        def up(t: torch.Tensor) -> torch.Tensor:
            return F.interpolate(t, size=size, mode="bilinear", align_corners=False)

        fused = torch.cat(
            [up(self.linear_c4(c4)), up(self.linear_c3(c3)), up(self.linear_c2(c2)), self.linear_c1(c1)], dim=1
        )
        fused = self.relu(self.bn(self.linear_fuse(fused)))
        return self.classifier(self.dropout(fused))


class DilatedResidualBlock(nn.Module):
    def __init__(self, width: int, dilation: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, padding=dilation, dilation=dilation)
        self.gn1 = nn.GroupNorm(8, width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=dilation, dilation=dilation)
        self.gn2 = nn.GroupNorm(8, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # One statement per step and in-place ReLU/add: at full resolution each 64-channel map is 1 GB at
        # 2048 px, so holding one fewer of them matters for export RAM and for the GPU memory of a render.
        y = self.conv1(x)
        y = self.gn1(y)
        y = F.relu_(y)
        y = self.conv2(y)
        y = self.gn2(y)
        y += x
        return F.relu_(y)


class EdgeRefiner(nn.Module):
    """Full-resolution CNN that predicts logit corrections (alpha, fg RGB) from the image and coarse maps."""

    def __init__(self, in_channels: int = 7, width: int = REFINER_WIDTH, out_channels: int = 4) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1), nn.GroupNorm(8, width), nn.ReLU(inplace=True)
        )
        self.res1 = DilatedResidualBlock(width, REFINER_DILATIONS[0])
        self.res2 = DilatedResidualBlock(width, REFINER_DILATIONS[1])
        self.res3 = DilatedResidualBlock(width, REFINER_DILATIONS[2])
        self.res4 = DilatedResidualBlock(width, REFINER_DILATIONS[3])
        self.final = nn.Conv2d(width, out_channels, 1)

    def forward(self, rgb: torch.Tensor, coarse: torch.Tensor) -> torch.Tensor:
        # Channels-last lets oneDNN (CPU) and cuDNN convolve without reordering full-resolution maps into
        # a blocked layout and back: one 64-channel map less at a time (about 1 GB at 2048 px).
        x = self.stem(torch.cat([rgb, coarse], dim=1).contiguous(memory_format=torch.channels_last))
        x = self.res4(self.res3(self.res2(self.res1(x))))
        return self.final(x) * REFINER_GAIN


class GreenFormer(nn.Module):
    """Hiera encoder + alpha/foreground heads + refiner. Input: normalised RGB + hint at `resolution`².

    `operators` is the attention's operator set (torch_targets.OPERATOR_SETS): the weights and their keys are the
    same for each; only what a trace records differs."""

    def __init__(self, resolution: int = 2048, operators: str = PORTABLE) -> None:
        super().__init__()
        self.resolution = resolution
        self.operators = operators
        self.encoder = timm.create_model(ENCODER_NAME, pretrained=False, features_only=True, img_size=resolution)
        set_attention(self.encoder, operators)
        self._widen_patch_embedding(4)
        self.alpha_decoder = SegFormerHead(out_dim=1)
        self.fg_decoder = SegFormerHead(out_dim=3)
        self.refiner = EdgeRefiner()

    def _widen_patch_embedding(self, in_channels: int) -> None:
        """The checkpoint's first conv sees RGB + hint; same geometry as timm's 3-channel one."""
        old = self.encoder.model.patch_embed.proj
        self.encoder.model.patch_embed.proj = nn.Conv2d(
            in_channels, old.out_channels, kernel_size=old.kernel_size, stride=old.stride,
            padding=old.padding, bias=old.bias is not None,
        )

    def forward(self, x: torch.Tensor, refiner_scale: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Returns (alpha, fg) probabilities at the input size; `refiner_scale` multiplies the refiner's delta."""
        size = (x.shape[2], x.shape[3])
        features = self.encoder(x)
        alpha_logits = F.interpolate(self.alpha_decoder(features), size=size, mode="bilinear", align_corners=False)
        fg_logits = F.interpolate(self.fg_decoder(features), size=size, mode="bilinear", align_corners=False)
        coarse = torch.cat([torch.sigmoid(alpha_logits), torch.sigmoid(fg_logits)], dim=1)
        delta = self.refiner(x[:, :3], coarse) * refiner_scale
        alpha = torch.sigmoid(alpha_logits + delta[:, 0:1])
        fg = torch.sigmoid(fg_logits + delta[:, 1:4])
        return alpha, fg

