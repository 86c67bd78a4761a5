"""The self-test's command-line form, run by Nuke as a file: ``Nuke -t selftest_script.py [REPORT.json]`` or
``Nuke --nukex -i selftest_script.py [REPORT.json]`` (farms and CI; `python -m nuke_plugin.cli.selftest` runs it).

It runs every check of nuke_plugin.host.selftest_checks, writes the JSON report (the path given last, else
CORRIDORKEY_SELFTEST_REPORT, else a new file in the temporary folder), prints the summary and closes Nuke with
exit status 0 when nothing failed, 1 otherwise.

Python 3.9+, Nuke's own interpreter; run as a file, so no relative imports: the plugin folder (three levels up)
goes on sys.path first.
"""
from __future__ import annotations

import os
import sys
from typing import Dict, List, Optional

PLUGIN_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def find_report_path(argv: List[str], environ: Optional[Dict[str, str]] = None) -> Optional[str]:
    """The last argument ending in .json, else the contract's REPORT_VARIABLE (any name), else None (a new file)."""
    from nuke_plugin.contract.selftest import REPORT_VARIABLE

    env = os.environ if environ is None else environ
    for arg in reversed(argv):
        if arg.lower().endswith(".json"):
            return arg
    return env.get(REPORT_VARIABLE) or None


def main(argv: Optional[List[str]] = None) -> int:
    if PLUGIN_ROOT not in sys.path:
        sys.path.insert(0, PLUGIN_ROOT)
    from nuke_plugin.contract.exits import EXIT_INTERNAL, EXIT_OK
    from nuke_plugin.host.selftest_checks import run_selftest

    report, path = run_selftest(find_report_path(list(sys.argv[1:] if argv is None else argv)))
    sys.stdout.write(report.summary() + "\nReport: %s\n" % path)
    sys.stdout.flush()
    return EXIT_OK if report.ok else EXIT_INTERNAL


if __name__ != "nuke_plugin.host.selftest_script":  # run by Nuke as a file (whatever __name__ it gives us)
    _code = main()  # puts the plugin folder (this file's package) on sys.path first
    from nuke_plugin.host.batch import close_nuke_and_exit

    close_nuke_and_exit(_code)
