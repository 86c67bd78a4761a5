"""A stand-in for ``python -m exporter`` that speaks the exporter's protocol in a fraction of a second.

The Nuke side's tests (the fast tier: no torch) meet every way an export can end through it: the runner, the
build job, the headless command and the dialog read its JSON events (nuke_plugin/contract/progress.py) and exit
codes (contract/exits.py) exactly as they read the real exporter's. What only the real exporter can prove (its
trace, validation, own clean-up on SIGTERM, and that its events parse as these do) stays in the export tier.

Its model is the shipped self-test model (nuke_plugin/selftest_model/): a real TorchScript file, made by the
exporter, with the real knobs. `write_export` lays it out as an export (CorridorKey.pt + CorridorKey.json, the
manifest the exporter wrote for it, renamed), for the fixtures too.

`install(folder, behaviour)` writes an executable that takes the place of the export interpreter: given
``-m exporter ...`` it runs this script, given ``-m exporter.demo_checkpoint PATH`` it writes a stand-in
checkpoint, and anything else goes to the real interpreter. Behaviours (BEHAVIOURS):
  success     stages, the .pt and manifest under partial names then renamed, "done", exit 0
  user        an "error" event of kind user with the given message, exit 2
  internal    a traceback on stderr and an "error" event of kind internal, exit 1
  crash       a traceback on stderr and no protocol at all, exit 1
  no-files    "done" naming files it never wrote, exit 0
  hang        a partial .pt and a "save" stage, then waits; SIGTERM removes the partial, "error" cancelled, exit 130
  stubborn    as hang, but ignores SIGTERM: the caller must kill it, and its partial stays for the caller
Every run appends {"argv": [...], "cwd": ...} to calls.jsonl beside the executable.

Standard library and nuke_plugin.contract only, Python 3.9+ (it runs on Nuke 14's Python in the fast tier).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import stat
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from nuke_plugin import contract  # noqa: E402  (the path above makes the plugin importable from any folder)
from nuke_plugin.contract import builds, exits, files, progress, selftest  # noqa: E402
from nuke_plugin.contract.manifest_schema import complete, path_for  # noqa: E402
from nuke_plugin.contract.torch_targets import nukes_for_target, operators_for, version_tuple  # noqa: E402

BEHAVIOURS = ("success", "user", "internal", "crash", "no-files", "hang", "stubborn")
STAGES = (("check", "Reading the checkpoint (stand-in)"), ("build", "Building the network (stand-in)"),
          ("trace", "Tracing the network (stand-in)"), ("save", "Saving the TorchScript file (stand-in)"),
          ("validate", "Validating the saved model (stand-in)"))
SETTINGS_NAME = "stand_in.json"
CALLS_NAME = "calls.jsonl"


def model_dir() -> str:
    return selftest.data_dir(ROOT)


def write_export(output_pt: str, target_nuke: str = "", checkpoint: Optional[str] = None) -> Tuple[str, str]:
    """The shipped self-test model as an export at `output_pt` (+ its manifest), each written all at once."""
    source = os.path.join(model_dir(), selftest.PT_NAME)
    with open(os.path.join(model_dir(), selftest.MANIFEST_NAME), "r", encoding="utf-8") as handle:
        record = json.load(handle)
    folder = os.path.dirname(os.path.abspath(output_pt))
    os.makedirs(folder, exist_ok=True)
    with open(source, "rb") as handle:
        files.atomic_write(output_pt, handle.read())
    record.update(model_id=contract.MODEL_ID, model_file=os.path.basename(output_pt),
                  model_sha256=files.sha256_of(output_pt), target_nuke=target_nuke,
                  checkpoint_name=os.path.basename(checkpoint) if checkpoint else record["checkpoint_name"],
                  checkpoint_sha256=files.sha256_of(checkpoint) if checkpoint and os.path.isfile(checkpoint) else "")
    # What the exporter records for that target: its operator set and the Nukes (and so torches) it loads in.
    loads_in = nukes_for_target(target_nuke)
    record.update(operator_set=operators_for(target_nuke), loads_in_nuke=[t.key for t in loads_in],
                  compatible_torch=sorted({t.torch for t in loads_in} | {record["torch_version"].split("+")[0]},
                                          key=version_tuple))
    # as the exporter writes them (exporter/manifest.py): the build ID of this checkpoint at this resolution
    record.update(build_id=builds.build_id(contract.MODEL_ID, record["checkpoint_sha256"], record["resolution"],
                                           [k["name"] for k in record["knobs"]]), built_in_nuke="")
    manifest = path_for(output_pt)
    files.atomic_write(manifest, json.dumps(complete(record), indent=2) + "\n")
    return output_pt, manifest


def install(folder: str, behaviour: str = "success", message: str = "", python: str = sys.executable) -> str:
    """An executable in `folder` standing in for the export interpreter; returns its path (POSIX: a shell script)."""
    if behaviour not in BEHAVIOURS:
        raise ValueError("behaviour must be one of %s, got %r" % (", ".join(BEHAVIOURS), behaviour))
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, SETTINGS_NAME), "w", encoding="utf-8") as handle:
        json.dump({"behaviour": behaviour, "message": message}, handle)
    path = os.path.join(folder, "python")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write('#!/bin/sh\nexec "%s" "%s" "%s" "$@"\n' % (python, os.path.abspath(__file__), folder))
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def calls(folder: str) -> List[Dict[str, Any]]:
    """Every command line the stand-in in `folder` was run with, oldest first."""
    path = os.path.join(folder, CALLS_NAME)
    if not os.path.isfile(path):
        return []
    with open(path, "r", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _emit(event: Dict[str, Any]) -> None:
    print(progress.encode(event), flush=True)


def _stages(until: str) -> None:
    for index, (stage, text) in enumerate(STAGES):
        if stage == until:
            return
        _emit(progress.stage_event(stage, text, index / float(len(STAGES)), 0.1 * index, 0.1 * (len(STAGES) - index)))


def _wait_for_cancel(output_pt: str, stubborn: bool) -> int:
    partial = files.new_partial(os.path.dirname(os.path.abspath(output_pt)), os.path.basename(output_pt))

    def cancelled(*_: Any) -> None:
        if os.path.exists(partial):
            os.remove(partial)
        _emit(progress.error_event("Export cancelled (stand-in); nothing was written.", progress.CANCELLED))
        sys.exit(exits.EXIT_CANCELLED)

    signal.signal(signal.SIGTERM, signal.SIG_IGN if stubborn else cancelled)
    signal.signal(signal.SIGINT, cancelled)
    _stages("save")
    _emit(progress.stage_event("save", STAGES[3][1], 0.6, 0.3, 0.2))
    deadline = time.monotonic() + 300  # the per-test timeout: a test that never cancels leaves no process behind
    while time.monotonic() < deadline:
        time.sleep(0.05)
    return exits.EXIT_INTERNAL


def export(argv: Sequence[str], settings: Dict[str, Any]) -> int:
    parser = argparse.ArgumentParser(prog="stand-in exporter")
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--resolution", type=int, default=contract.NATIVE_RESOLUTION)
    parser.add_argument("--progress", default="human")
    parser.add_argument("--target-nuke", default="")
    args, _ = parser.parse_known_args(argv)
    behaviour = settings["behaviour"]
    if behaviour == "user":
        _stages("build")
        _emit(progress.error_event(settings["message"] or "Something to fix (stand-in).", progress.USER))
        return exits.EXIT_USER
    if behaviour in ("internal", "crash"):
        _stages("trace")
        sys.stderr.write("Traceback (most recent call last):\nRuntimeError: %s\n" % (settings["message"] or
                                                                                  "a bug (stand-in)"))
        if behaviour == "internal":
            _emit(progress.error_event("Internal error (stand-in): see the log.", progress.INTERNAL))
        return exits.EXIT_INTERNAL
    if behaviour in ("hang", "stubborn"):
        return _wait_for_cancel(args.output, behaviour == "stubborn")
    _stages("")
    started = time.monotonic()
    if behaviour == "no-files":
        pt, manifest = args.output, path_for(args.output)
    else:
        pt, manifest = write_export(args.output, args.target_nuke, args.checkpoint)
    _emit(progress.done_event(pt, manifest, time.monotonic() - started, {stage: 0.1 for stage, _ in STAGES}))
    return exits.EXIT_OK


def demo_checkpoint(argv: Sequence[str]) -> int:
    """`-m exporter.demo_checkpoint PATH`: a stand-in checkpoint (bytes nobody loads)."""
    path = argv[0]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    files.atomic_write(path, hashlib.sha256(b"stand-in checkpoint").digest())
    print("Wrote a stand-in checkpoint to %s" % path)
    return exits.EXIT_OK


def main(argv: Sequence[str]) -> int:
    folder, args = argv[0], list(argv[1:])
    with open(os.path.join(folder, CALLS_NAME), "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"argv": args, "cwd": os.getcwd()}) + "\n")
    if args[:2] == ["-m", "exporter"]:
        with open(os.path.join(folder, SETTINGS_NAME), "r", encoding="utf-8") as handle:
            return export(args[2:], json.load(handle))
    if args[:2] == ["-m", "exporter.demo_checkpoint"]:
        return demo_checkpoint(args[2:])
    os.execv(sys.executable, [sys.executable] + args)
    return exits.EXIT_INTERNAL  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
