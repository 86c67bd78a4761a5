"""Build and drive `ck_inference_host`, the C++ stand-in for Nuke's Inference node (sources in src/).

`build_host()` compiles it once against the libtorch of the installed torch and caches the binary;
`run_host()` feeds it a numpy image and returns the output tensor and its timing report.
"""
from .build import HostBuildError, HostUnavailable, build_host, toolchain_problem
from .client import EXIT_CODES, HostError, HostResult, knob_arguments, run_host

__all__ = [
    "EXIT_CODES",
    "HostBuildError",
    "HostError",
    "HostResult",
    "HostUnavailable",
    "build_host",
    "knob_arguments",
    "run_host",
    "toolchain_problem",
]
