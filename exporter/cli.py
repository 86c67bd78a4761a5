"""`python -m exporter`: the command the Build Model menu (and a TD on the farm) runs in the torch env."""
from __future__ import annotations

import argparse
import signal
import sys
import traceback
import warnings
from typing import List, Optional

from nuke_plugin import contract
from nuke_plugin.contract.exits import EXIT_CANCELLED, EXIT_INTERNAL, EXIT_OK, EXIT_USER
from nuke_plugin.contract.progress import CANCELLED, INTERNAL, USER

from . import cancel
from .dependencies import missing_package_message
from .errors import ExportCancelled, ExportError
from .memory import limit_heap_retention
from .reporting import Reporter


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m exporter",
        description="Export a CorridorKey checkpoint to TorchScript for Nuke's Inference node "
                    "(writes the .pt and a manifest .json beside it).")
    parser.add_argument("--checkpoint", required=True, help="CorridorKey .pth checkpoint (%s)" % contract.WEIGHTS_FILE)
    parser.add_argument("--output", required=True, help="the .pt to write, e.g. build/%s" % contract.PT_NAME)
    parser.add_argument("--resolution", type=int, default=contract.NATIVE_RESOLUTION,
                        help="model resolution, a multiple of %d from %d to %d (default %d, native; 1536 or 1024 "
                             "need less GPU memory)" % (contract.RESOLUTION_MULTIPLE, contract.MIN_RESOLUTION,
                                                        contract.MAX_RESOLUTION, contract.NATIVE_RESOLUTION))
    parser.add_argument("--progress", choices=("human", "json", "quiet"), default="human",
                        help="progress format: human (default), json lines for the Nuke side, or quiet")
    parser.add_argument("--target-nuke", default="",
                        help="the Nuke this build is for (e.g. nuke16); recorded in the manifest beside the torch "
                             "version actually used")
    parser.add_argument("--verify-with", action="append", default=[], metavar="PYTHON",
                        help="another Python whose torch must load and run the saved file like this one before "
                             "it is kept (e.g. a venv with the torch of Nuke 14); repeat for several")
    parser.add_argument("--validate-device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="where the saved model is checked (auto: CUDA when available)")
    return parser.parse_args(argv)


def install_signal_handlers() -> None:
    # Nuke's Cancel ends us with SIGTERM, a TD presses Ctrl+C: an exception, so the export's cleanup runs, except
    # while the .pt and manifest are being committed (see exporter.cancel).
    cancel.install()
    if hasattr(signal, "SIGXFSZ"):  # past `ulimit -f`, a write fails with an OSError instead of killing us
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    # TorchScript is what Nuke loads; torch's notice that it is deprecated is noise for the user.
    warnings.filterwarnings("ignore", message=r".*torch\.jit.*deprecated", category=FutureWarning)
    # Older torches (Nuke 14's 1.12, Nuke 15.1's 2.1) comment on their own internals while loading and tracing.
    warnings.filterwarnings("ignore", message=r"__floordiv__ is deprecated", category=UserWarning)
    warnings.filterwarnings("ignore", message=r"TypedStorage is deprecated", category=UserWarning)
    reporter = Reporter(args.progress)
    install_signal_handlers()
    limit_heap_retention()
    try:
        from .export import export  # torch import is slow: after argument errors are reported
        export(args.checkpoint, args.output, resolution=args.resolution, reporter=reporter,
               validate_device=args.validate_device, target_nuke=args.target_nuke, verify_with=args.verify_with)
    except ExportError as exc:
        reporter.error(str(exc), USER)
        return EXIT_USER
    except (ExportCancelled, KeyboardInterrupt):
        reporter.error("Export cancelled; nothing was written and any previous build is unchanged.", CANCELLED)
        return EXIT_CANCELLED
    except Exception as exc:
        missing = missing_package_message(exc)
        if missing:  # the wrong interpreter, not a bug
            reporter.error(missing, USER)
            return EXIT_USER
        # a bug: say so, with the traceback on stderr for the report
        traceback.print_exc(file=sys.stderr)
        reporter.error("Internal error: %s: %s. Please report it with the log above." % (type(exc).__name__, exc),
                       INTERNAL)
        return EXIT_INTERNAL
    return EXIT_OK
