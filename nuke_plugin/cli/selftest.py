"""The self-test from a shell, for farms and CI: ``python -m nuke_plugin.cli.selftest --nuke /path/to/Nuke``.

Runs Nuke (default flags ``--nukex -i``; ``-t`` for plain Nuke or to see what terminal mode does) on
nuke_plugin/host/selftest_script.py through the launcher headless builds use (runner.nuke_launcher: a job kill,
Ctrl+C or the timeout ends Nuke's whole process group), waits for it, and adds one check of its own to the report:
whether Nuke ran the script and exited by itself. Prints the summary and the report's path. Everything the user
can get wrong (--nuke, --timeout, --report) is checked before Nuke starts.

With --gpu, Nuke starts with its own --gpu flag (a command-line render uses the GPU only with it; farm adaptors
must pass it too, see docs/artist_guide.md) and the GPU check fails when the Inference node fell back to the CPU;
the GPU name the Inference node used (its gpuName knob) is printed either way.

Exit status: 0 every check passed or was skipped, 1 a check failed (the report says which), 2 Nuke did not run
the script (a wrong path, no licence) or a problem with the command line, 130 cancelled. No Nuke and no Qt needed
here; Python 3.9+.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional, Sequence

from ..contract.exits import EXIT_CANCELLED, EXIT_INTERNAL, EXIT_OK, EXIT_USER
from ..contract.files import write_partial
from ..contract.selftest import GPU_VARIABLE, REPORT_VARIABLE
from ..core import selftest_report
from ..core.paths import plugin_root
from ..core.selftest_report import FAIL, PASS
from ..core.settings import path_problem
from ..runner import nuke_launcher, process

DEFAULT_NUKE_FLAGS = nuke_launcher.DEFAULT_NUKE_FLAGS
# Run by Nuke as a file (never imported here: it is the host layer's, and imports `nuke`).
SELFTEST_SCRIPT = os.path.join(plugin_root(), "nuke_plugin", "host", "selftest_script.py")


def nuke_command(nuke: str, report: str, flags: Sequence[str] = DEFAULT_NUKE_FLAGS) -> List[str]:
    """``Nuke --nukex -i selftest_script.py [REPORT.json]``. The script finds the report by its .json ending, so
    another name travels in REPORT_VARIABLE only (run_selftest always sets it)."""
    return nuke_launcher.nuke_command(nuke, flags, SELFTEST_SCRIPT,
                                      report if report.lower().endswith(".json") else None)


def report_problem(report: str) -> Optional[str]:
    """Why the report cannot be written at `report`, found before Nuke starts (an old report is removed here, so
    that it cannot pass for this run's); None when it can."""
    problem = path_problem(report)
    if problem:
        return "--report %r is not a usable path: %s." % (report, problem)
    if os.path.isdir(report):
        return ("--report %s is a folder. Give a file name in it, e.g. %s."
                % (report, os.path.join(report, os.path.basename(selftest_report.default_report_path()))))
    folder = os.path.dirname(report)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        return "--report %s: its folder cannot be created (%s). Choose another path." % (report, exc.strerror or exc)
    if os.path.lexists(report):
        if not os.path.isfile(report) or os.path.islink(report):
            return "--report %s exists and is not a plain file; choose another path." % report
        try:
            os.remove(report)
        except OSError as exc:
            return ("--report %s: the old report there cannot be removed (%s). Remove it, or choose another path."
                    % (report, exc.strerror or exc))
    try:
        os.remove(write_partial(folder, os.path.basename(report), b""))  # what the report's own write will do
    except OSError as exc:
        return "--report %s: nothing can be written in %s (%s). Choose another path." % (
            report, folder, exc.strerror or exc)
    return None


def gpu_flags(index: Optional[str]) -> List[str]:
    """Nuke's own GPU flag: ``--gpu`` (Nuke's default GPU) or ``--gpu INDEX``. It goes first, so that Nuke never
    takes a file name that follows it for the optional index."""
    if index is None:
        return []
    return ["--gpu"] + ([index] if index else [])


def run(nuke: str, flags: Sequence[str], report: str, timeout: float, gpu: bool = False) -> int:
    """Runs the self-test in Nuke (the command line already checked) and adds the script_mode check. `gpu`: the
    flags start Nuke with --gpu, so the GPU check expects the GPU."""
    command = nuke_command(nuke, report, flags)
    flag_text = " ".join(flags)
    environ = {REPORT_VARIABLE: report, GPU_VARIABLE: "1" if gpu else ""}
    with nuke_launcher.CancelOnSignals() as cancel:
        ran = nuke_launcher.run_nuke(command, timeout, cancel.flag.is_set, environ=environ)
    if ran.status == nuke_launcher.NOT_STARTED:
        print("ERROR: cannot run %s: %s" % (nuke, ran.message), file=sys.stderr)
        return EXIT_USER
    if ran.status == nuke_launcher.CANCELLED:
        print("Cancelled: Nuke was stopped after %.0f s; no report was kept." % ran.seconds, file=sys.stderr)
        if os.path.isfile(report):
            os.remove(report)
        return EXIT_CANCELLED
    if not os.path.isfile(report):
        hint = process.format_command(command)
        if command[-1] != report:
            hint = "%s=%s %s" % (REPORT_VARIABLE, process.format_command([report]), hint)
        print("ERROR: Nuke (%s) %s without writing the self-test report. Check the licence and run by hand:\n  %s%s"
              % (flag_text, ran.message, hint, "\n" + ran.stderr_tail if ran.stderr_tail else ""), file=sys.stderr)
        return EXIT_USER
    if ran.status == nuke_launcher.EXITED:
        check = selftest_report.Check("script_mode", PASS,
                                      "Nuke %s ran the script and exited by itself (status %s, %.0f s)"
                         % (flag_text, ran.returncode, ran.seconds), (selftest_report.SCRIPT_MODE,),
                         {"flags": list(flags), "exit": ran.returncode})
    else:
        check = selftest_report.Check("script_mode", FAIL, "Nuke %s ran the script but did not exit within %.0f s"
                         % (flag_text, timeout), (selftest_report.SCRIPT_MODE,), {"flags": list(flags)})
    try:
        data = selftest_report.add_check_to_file(report, check)
    except selftest_report.SelfTestFileError as exc:
        print("ERROR: %s." % exc, file=sys.stderr)
        return EXIT_USER
    for found in data["checks"]:
        if found.get("name") == "gpu":
            print("gpu: %s: %s" % (found.get("status"), found.get("detail")))
    print("script_mode: %s: %s\nReport: %s (%s)" % (check.status, check.detail, report,
                                                    "OK" if data["ok"] else "FAILED"))
    return EXIT_OK if data["ok"] else EXIT_INTERNAL


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nuke_plugin.cli.selftest", description=__doc__.split("\n")[0])
    parser.add_argument("--nuke", required=True, help="the Nuke executable (NukeX licence for the .cat checks)")
    parser.add_argument("--nuke-flags", default=" ".join(DEFAULT_NUKE_FLAGS),
                        help="flags for Nuke before the script, e.g. --nuke-flags=-t (default: %(default)s)")
    parser.add_argument("--report", default=None, help="where to write the JSON report, any file name (default: a "
                        "new file in the temporary folder)")
    parser.add_argument("--timeout", type=nuke_launcher.seconds, default=900.0,
                        help="seconds to allow Nuke (default 900)")
    parser.add_argument("--gpu", nargs="?", const="", default=None, metavar="INDEX",
                        help="start Nuke with --gpu [INDEX], as a GPU farm node must, and fail when Inference falls "
                             "back to the CPU")
    args = parser.parse_args(argv)
    try:
        nuke = nuke_launcher.find_nuke(args.nuke)
    except ValueError as exc:
        print("ERROR: %s" % exc, file=sys.stderr)
        return EXIT_USER
    report = os.path.abspath(args.report or selftest_report.default_report_path())
    problem = nuke_launcher.flags_problem(args.nuke_flags) or report_problem(report)
    if args.gpu and not args.gpu.isdigit():
        problem = problem or "--gpu %r: give the GPU's index (0, 1, ...), or nothing for Nuke's default." % args.gpu
    if not problem and args.gpu is not None and "--gpu" in args.nuke_flags.split():
        problem = "--gpu is given twice (also in --nuke-flags); give it once."
    if problem:
        print("ERROR: " + problem, file=sys.stderr)
        return EXIT_USER
    return run(nuke, gpu_flags(args.gpu) + args.nuke_flags.split(), report, args.timeout, args.gpu is not None)


if __name__ == "__main__":
    sys.exit(main())
