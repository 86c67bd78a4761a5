"""The self-test from a shell, for farms and CI: ``python -m nuke_plugin.cli.selftest --nuke /path/to/Nuke``.

Runs Nuke (default flags ``--nukex -i``; ``-t`` for plain Nuke or to see what terminal mode does) on
nuke_plugin/host/selftest_script.py, waits for it, and adds one check of its own to the report: whether Nuke ran
the script and exited by itself. Prints the summary and the report's path.

Exit status: 0 every check passed or was skipped, 1 a check failed (the report says which), 2 Nuke did not run
the script (a wrong path, no licence). No Nuke and no Qt needed here; Python 3.9+.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from typing import List, Optional, Sequence

from ..contract.exits import EXIT_INTERNAL, EXIT_OK, EXIT_USER
from ..core import selftest as st
from ..core.paths import plugin_root

DEFAULT_NUKE_FLAGS = ("--nukex", "-i")
# Run by Nuke as a file (never imported here: it is the host layer's, and imports `nuke`).
SELFTEST_SCRIPT = os.path.join(plugin_root(), "nuke_plugin", "host", "selftest_script.py")


def nuke_command(nuke: str, report: str, flags: Sequence[str] = DEFAULT_NUKE_FLAGS) -> List[str]:
    """``Nuke --nukex -i selftest_script.py REPORT.json`` (the report last, so Nuke takes no number as frames)."""
    return [nuke] + list(flags) + [SELFTEST_SCRIPT, report]


def run(nuke: str, flags: Sequence[str], report: str, timeout: float) -> int:
    if os.path.exists(report):
        os.remove(report)  # a report left from before must not pass for this run's
    command = nuke_command(nuke, report, flags)
    started = time.monotonic()
    try:
        proc = subprocess.run(command, stdin=subprocess.DEVNULL, timeout=timeout)
        exited, status = True, proc.returncode
    except subprocess.TimeoutExpired:
        exited, status = False, None
    except OSError as exc:
        print("ERROR: cannot run %s: %s" % (nuke, exc), file=sys.stderr)
        return EXIT_USER
    seconds = time.monotonic() - started
    flag_text = " ".join(flags)
    if not os.path.isfile(report):
        print("ERROR: Nuke (%s) %s without writing the self-test report. Check the licence and run by hand:\n  %s"
              % (flag_text, "ended (status %s)" % status if exited else "was stopped after %.0f s" % timeout,
                 subprocess.list2cmdline(command)), file=sys.stderr)
        return EXIT_USER
    if exited:
        check = st.Check("script_mode", st.PASS, "Nuke %s ran the script and exited by itself (status %s, %.0f s)"
                         % (flag_text, status, seconds), (st.SCRIPT_MODE,), {"flags": list(flags), "exit": status})
    else:
        check = st.Check("script_mode", st.FAIL, "Nuke %s ran the script but did not exit within %.0f s"
                         % (flag_text, timeout), (st.SCRIPT_MODE,), {"flags": list(flags)})
    data = st.add_check_to_file(report, check)
    print("script_mode: %s: %s\nReport: %s (%s)" % (check.status, check.detail, report,
                                                    "OK" if data["ok"] else "FAILED"))
    return EXIT_OK if data["ok"] else EXIT_INTERNAL


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nuke_plugin.cli.selftest", description=__doc__.split("\n")[0])
    parser.add_argument("--nuke", required=True, help="the Nuke executable (NukeX licence for the .cat checks)")
    parser.add_argument("--nuke-flags", default=" ".join(DEFAULT_NUKE_FLAGS),
                        help="flags for Nuke before the script, e.g. --nuke-flags=-t (default: %(default)s)")
    parser.add_argument("--report", default=None, help="where to write the JSON report (default: a new file in "
                        "the temporary folder)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to allow Nuke (default 900)")
    args = parser.parse_args(argv)
    return run(args.nuke, args.nuke_flags.split(), os.path.abspath(args.report or st.default_report_path()),
               args.timeout)


if __name__ == "__main__":
    sys.exit(main())
