"""The script headless builds hand to NukeX: turns an exported .pt + manifest into the .cat and installed gizmo.

Run by `python -m nuke_plugin.headless --nuke ...` as ``Nuke --nukex -i nuke_build_script.py JOB.json``: pressing
CatFileCreator's createCatFile needs NukeX, and under ``-t`` (terminal mode) the button does nothing, so Nuke
runs with ``-i`` and this script. Everything it needs comes from the job file (a JSON path as the last argument,
or CORRIDORKEY_BUILD_JOB), so no value is lost to Nuke's own argument parsing (it takes a trailing number as a
frame range). It writes a JSON result file beside the job - the caller reads that, not Nuke's exit status - and
then closes Nuke.

Python 3.9+, Nuke's own interpreter; run as a file, so no relative imports: the plugin folder (three levels up)
goes on sys.path first.
"""
from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any, Dict, List, Optional

JOB_VARIABLE = "CORRIDORKEY_BUILD_JOB"
JOB_SIZE_LIMIT = 1 << 20  # a job is a few paths
DONE, FAILED = "done", "failed"
PLUGIN_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _plugin_on_path(root: Optional[str] = None) -> None:
    for folder in (root, PLUGIN_ROOT):
        if folder and folder not in sys.path:
            sys.path.insert(0, folder)


class BuildScriptError(Exception):
    """A problem the TD can fix; the message says how."""


def find_job(argv: List[str], environ: Optional[Dict[str, str]] = None) -> str:
    env = os.environ if environ is None else environ
    for arg in reversed(argv):
        if arg.lower().endswith(".json"):
            return arg
    if env.get(JOB_VARIABLE):
        return env[JOB_VARIABLE]
    raise BuildScriptError("no job file: pass the job .json as the last argument or set %s" % JOB_VARIABLE)


def write_result(path: str, result: Dict[str, Any]) -> None:
    """Atomic, so the caller never reads half a result."""
    _plugin_on_path()
    from nuke_plugin.contract.files import atomic_write

    atomic_write(path, json.dumps(result, indent=2, default=str))


def _plain(value: Any) -> Any:
    """finish_build's return value as JSON-friendly data (paths and small records)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "__dict__"):
        return {k: _plain(v) for k, v in vars(value).items() if not k.startswith("_")}
    return str(value)


def run_job(job: Dict[str, Any]) -> Dict[str, Any]:
    """Builds the .cat and installs the gizmo inside a running NukeX; returns the result record."""
    _plugin_on_path(job.get("plugin_root"))
    import nuke  # noqa: F401  (fails clearly outside Nuke)

    for key in ("pt", "manifest"):
        if not os.path.isfile(job[key]):
            raise BuildScriptError("%s does not exist: run the export first" % job[key])
    from nuke_plugin.core.errors import BuildDeclined, CorridorKeyError
    from nuke_plugin.host.finish import finish_build

    try:
        value = finish_build(os.path.dirname(os.path.abspath(job["pt"])),
                                          install_dir=job.get("install_dir") or None, drop=False,
                                          overwrite=bool(job.get("overwrite")))
    except BuildDeclined as exc:
        raise BuildScriptError("%s Pass --force to replace it." % exc)
    except CorridorKeyError as exc:
        raise BuildScriptError(str(exc))
    return {"status": DONE, "message": "built and installed", "details": _plain(value)}


def main(argv: Optional[List[str]] = None) -> int:
    _plugin_on_path()
    from nuke_plugin.contract.exits import EXIT_INTERNAL, EXIT_OK, EXIT_USER

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        job_path = find_job(argv)
        from nuke_plugin.contract.files import read_json

        job = read_json(job_path, JOB_SIZE_LIMIT)
        if not isinstance(job, dict) or not all(isinstance(job.get(k), str) for k in ("pt", "manifest")):
            raise BuildScriptError("%s is not a CorridorKey build job" % job_path)
    except (BuildScriptError, OSError, ValueError) as exc:
        sys.stderr.write("CorridorKey build script: %s\n" % exc)
        return EXIT_USER
    wanted = job.get("result")
    result_path = wanted if isinstance(wanted, str) and wanted else os.path.splitext(job_path)[0] + ".result.json"
    try:
        result = run_job(job)
    except BuildScriptError as exc:
        result = {"status": FAILED, "kind": "user", "message": str(exc)}
    except Exception as exc:  # reported through the result file, with the traceback for the TD
        result = {"status": FAILED, "kind": "internal", "message": "%s: %s" % (type(exc).__name__, exc),
                  "traceback": traceback.format_exc()}
    write_result(result_path, result)
    sys.stdout.write("CorridorKey build script: %s: %s\n" % (result["status"], result["message"]))
    return EXIT_OK if result["status"] == DONE else EXIT_INTERNAL


if __name__ != "nuke_plugin.host.nuke_build_script":  # run by Nuke as a file (whatever __name__ it gives us)
    _code = main()  # puts the plugin folder (this file's package) on sys.path first
    from nuke_plugin.host.batch import close_nuke_and_exit

    close_nuke_and_exit(_code)
