"""`.venv/bin/python -m tools.inference_host build` prints the host's path, building it if needed;
`.venv/bin/python -m tools.inference_host run MODEL.pt --input IN.npy --output OUT.npy [...]` builds, then runs it;
`.venv/bin/python -m tools.inference_host bench --pt MODEL.pt [--device cuda] [--half]` times it against Python."""
from __future__ import annotations

import subprocess
import sys

from .build import HostBuildError, HostUnavailable, build_host

USAGE = __doc__


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "bench":
        from .bench import main as bench

        return bench(argv[1:])
    if not argv or argv[0] not in ("build", "run"):
        sys.stderr.write(USAGE + "\n")
        return 2
    try:
        binary = build_host(verbose="--verbose" in argv[1:] and argv[0] == "build")
    except (HostUnavailable, HostBuildError) as error:
        sys.stderr.write("error: %s\n" % error)
        return 2 if isinstance(error, HostUnavailable) else 1
    if argv[0] == "build":
        print(binary)
        return 0
    return subprocess.call([str(binary)] + argv[1:])


if __name__ == "__main__":
    sys.exit(main())
