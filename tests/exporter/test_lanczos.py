"""The TorchScript Lanczos-4 resample against cv2.resize(..., INTER_LANCZOS4), enlarging and shrinking."""
import cv2
import numpy as np
import pytest
import torch

from exporter.scripted.lanczos import resize_lanczos4

resize_scripted = torch.jit.script(resize_lanczos4)


@pytest.mark.parametrize("source, target", [
    ((128, 128), (2160, 3840)), ((128, 128), (1, 1)), ((128, 128), (7, 300)), ((128, 128), (127, 129)),
    ((64, 32), (64, 100)), ((5, 9), (3, 2)), ((128, 128), (8, 1000)), ((3, 3), (40, 17)),
])
def test_matches_opencv(source, target):
    image = np.random.default_rng(3).random(source + (4,), dtype=np.float32)
    theirs = cv2.resize(image, (target[1], target[0]), interpolation=cv2.INTER_LANCZOS4)
    ours = resize_scripted(torch.from_numpy(image).permute(2, 0, 1)[None].contiguous(), target[0], target[1])
    assert float(np.abs(ours[0].permute(1, 2, 0).numpy() - theirs).max()) < 5e-5


def test_same_size_is_untouched():
    image = torch.rand(1, 4, 33, 47)
    assert torch.equal(resize_scripted(image, 33, 47), image)
