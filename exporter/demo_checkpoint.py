"""`.venv/bin/python -m exporter.demo_checkpoint OUT.pth`: a random-weight checkpoint in the released layout.

For trying the whole chain (export, .cat, gizmo, render check) without the real weights (`bash tools/export.sh
--demo` makes one and exports it), and for the tests. The matte it produces is meaningless; every shape, name and
code path is the real one.
"""
import argparse
import os
import sys

from nuke_plugin import contract
from nuke_plugin.contract.exits import EXIT_USER

from .dependencies import missing_package_message


def make_random_checkpoint(path, resolution=512, seed=0, wrap=False, compiled_prefix=False):
    """Saves a random CorridorKey state dict, optionally under `state_dict` and/or with `_orig_mod.` keys."""
    import torch  # here, not above: --help and argument errors need no torch

    from .scripted.network import GreenFormer

    torch.manual_seed(seed)
    state = GreenFormer(resolution).state_dict()
    if compiled_prefix:
        state = {"_orig_mod." + key: value for key, value in state.items()}
    folder = os.path.dirname(os.path.abspath(str(path)))
    os.makedirs(folder, exist_ok=True)
    torch.save({"state_dict": state, "epoch": 0} if wrap else state, str(path))
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m exporter.demo_checkpoint", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", help="the .pth to write")
    parser.add_argument("--resolution", type=int, default=512,
                        help="resolution of its position embedding (the exporter resizes it; default 512)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    problem = contract.resolution_problem(args.resolution)
    if problem:
        parser.error("--resolution: %s; use a multiple of %d from %d to %d" % (
            problem, contract.RESOLUTION_MULTIPLE, contract.MIN_RESOLUTION, contract.MAX_RESOLUTION))
    try:
        make_random_checkpoint(args.output, args.resolution, args.seed)
    except ModuleNotFoundError as exc:
        missing = missing_package_message(exc)
        if not missing:
            raise
        sys.stderr.write(missing + "\n")
        return EXIT_USER
    print("Wrote random-weight checkpoint %s (NOT a trained model)" % args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
