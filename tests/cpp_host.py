"""The C++ Inference-node stand-in for tests: built once per process, cached on disk between runs.

The build lives under build/inference_host/<hash of sources + torch>/ (gitignored), so only the first
run after a change of the C++ sources or of torch compiles anything. A machine with no CMake or C++
compiler skips the host's tests with that reason; a build that fails is a test failure, not a skip.
"""
from __future__ import annotations

import functools
from pathlib import Path

import pytest

from tools.inference_host import HostUnavailable, build_host


@functools.lru_cache(maxsize=None)
def _built() -> Path:
    return build_host()


def host_binary() -> Path:
    try:
        return _built()
    except HostUnavailable as error:
        pytest.skip("C++ inference host cannot be built on this machine: %s" % error)
