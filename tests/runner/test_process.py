"""The export runner: JSON-lines progress, failures reported in the exporter's words, cancel that ends the
process tree and leaves nothing partial. Real subprocesses throughout: stand-in scripts, the stand-in exporter
(tests/stand_in_exporter.py) and, in the export tier, the real exporter."""
import json
import os
import sys
import textwrap
import time

import pytest

from nuke_plugin.runner import exporter_client, process
from nuke_plugin.runner.process import CANCELLED, DONE, FAILED
from tests.conftest import stale_partial

PY = sys.executable


def write_script(path, body):
    path.write_text(textwrap.dedent(body))
    return str(path)


def collect():
    events = []
    return events, events.append


def test_protocol_events_arrive_in_order_and_done_is_checked(tmp_path):
    out = tmp_path / "build"
    script = write_script(tmp_path / "fake_exporter.py", """
        import json, os, sys
        out = sys.argv[1]
        os.makedirs(out, exist_ok=True)
        for i, stage in enumerate(["check", "build", "trace"]):
            print(json.dumps({"event": "stage", "stage": stage, "message": "stage " + stage, "progress": i / 4}))
        print("a stray print from a library")
        pt, manifest = os.path.join(out, "CorridorKey.pt"), os.path.join(out, "CorridorKey.json")
        open(pt, "w").write("pt"); open(manifest, "w").write("{}")
        print(json.dumps({"event": "done", "pt": pt, "manifest": manifest, "seconds": 0.1, "progress": 1.0}))
    """)
    events, on_event = collect()
    outcome = process.run_streaming([PY, script, str(out)], on_event)
    assert outcome.status == DONE and outcome.returncode == 0
    assert [e.get("stage") for e in events if e["event"] == "stage"] == ["check", "build", "trace"]
    assert {"event": "log", "message": "a stray print from a library"} in events
    assert outcome.log == ["a stray print from a library"]
    assert outcome.pt == str(out / "CorridorKey.pt") and outcome.manifest == str(out / "CorridorKey.json")


def test_exporters_own_error_message_is_reported(tmp_path):
    message = "The checkpoint /x.pth is a Git LFS pointer, not weights: run `git lfs pull`."
    script = write_script(tmp_path / "fails.py", """
        import json, sys
        print(json.dumps({"event": "stage", "stage": "check", "message": "Reading", "progress": 0.0}))
        print(json.dumps({"event": "error", "message": %r, "kind": "user"}))
        sys.exit(2)
    """ % message)
    outcome = process.run_streaming([PY, script], lambda e: None)
    assert outcome.status == FAILED
    assert outcome.message == message
    assert outcome.kind == "user" and outcome.returncode == 2


def test_crash_without_protocol_shows_stderr_tail(tmp_path):
    script = write_script(tmp_path / "crash.py", """
        import sys
        sys.stderr.write("Traceback (most recent call last):\\nRuntimeError: out of memory\\n")
        sys.exit(1)
    """)
    outcome = process.run_streaming([PY, script], lambda e: None)
    assert outcome.status == FAILED and outcome.kind == "crash"
    assert "exit code 1" in outcome.message and "RuntimeError: out of memory" in outcome.message


def test_missing_interpreter_is_a_launch_failure(tmp_path):
    outcome = process.run_streaming([str(tmp_path / "no-such-python"), "-c", "pass"], lambda e: None)
    assert outcome.status == FAILED and outcome.kind == "launch"
    assert "no-such-python" in outcome.message


def test_exit_130_is_a_cancel(tmp_path):
    script = write_script(tmp_path / "interrupted.py", """
        import json, sys
        print(json.dumps({"event": "error", "message": "Export cancelled", "kind": "cancelled"}))
        sys.exit(130)
    """)
    outcome = process.run_streaming([PY, script], lambda e: None)
    assert outcome.status == CANCELLED


def test_success_claim_without_files_is_a_failure(tmp_path):
    root = tmp_path / "plugin"
    (root / "exporter").mkdir(parents=True)
    (root / "exporter" / "__main__.py").write_text(textwrap.dedent("""
        import json, sys
        out = sys.argv[sys.argv.index("--output") + 1]
        print(json.dumps({"event": "done", "pt": out, "manifest": out[:-3] + ".json", "seconds": 0}))
    """))
    outcome = exporter_client.run_export(PY, "ck.pth", str(tmp_path / "CorridorKey.pt"), 128, lambda e: None,
                                       root=str(root))
    assert outcome.status == FAILED and "missing" in outcome.message


def test_missing_exporter_folder_is_reported(tmp_path):
    outcome = exporter_client.run_export(PY, "ck.pth", str(tmp_path / "x.pt"), 128, lambda e: None,
                                       root=str(tmp_path))
    assert outcome.status == FAILED and "exporter" in outcome.message


def test_export_command_and_cwd(tmp_path):
    root = tmp_path / "plugin"
    (root / "exporter").mkdir(parents=True)
    # The stand-in echoes its argv and cwd, then succeeds with real files.
    (root / "exporter" / "__main__.py").write_text(textwrap.dedent("""
        import json, os, sys
        out = sys.argv[sys.argv.index("--output") + 1]
        print(json.dumps({"event": "log", "message": json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd()})}))
        open(out, "w").write("pt"); open(out[:-3] + ".json", "w").write("{}")
        print(json.dumps({"event": "done", "pt": out, "manifest": out[:-3] + ".json", "seconds": 0}))
    """))
    events, on_event = collect()
    pt = tmp_path / "CorridorKey.pt"
    outcome = exporter_client.run_export(PY, "/data/CorridorKey.pth", str(pt), 1536, on_event, root=str(root))
    assert outcome.ok, outcome.message
    echoed = json.loads(events[0]["message"])
    assert echoed["argv"] == ["--checkpoint", "/data/CorridorKey.pth", "--output", str(pt), "--resolution", "1536",
                              "--progress", "json"]
    assert os.path.samefile(echoed["cwd"], str(root))


def test_child_environment_drops_the_hosts_python_variables():
    env = process.child_environment({"PYTHONHOME": "/nuke/lib", "PYTHONPATH": "/nuke/py", "PATH": "/bin",
                                           "FOO": "1"})
    assert "PYTHONHOME" not in env and "PYTHONPATH" not in env
    assert env["PATH"] == "/bin" and env["FOO"] == "1" and env["PYTHONUNBUFFERED"] == "1"


def _alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    # a zombie is dead for our purpose
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


@pytest.mark.skipif(os.name == "nt", reason="process-group signals are POSIX; Windows uses taskkill /T")
def test_cancel_kills_a_stubborn_process_tree(tmp_path):
    pidfile = tmp_path / "child.pid"
    script = write_script(tmp_path / "stubborn.py", """
        import json, signal, subprocess, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)   # ignores the polite request
        child = subprocess.Popen([sys.executable, "-c", "import signal, time; "
                                  "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
        open(sys.argv[1], "w").write(str(child.pid))
        print(json.dumps({"event": "stage", "stage": "trace", "message": "working", "progress": 0.3}))
        time.sleep(600)
    """)
    events, on_event = collect()
    started = time.monotonic()
    outcome = process.run_streaming([PY, script, str(pidfile)], on_event,
                                          is_cancelled=lambda: bool(events), grace=1.0)
    assert outcome.status == CANCELLED
    assert time.monotonic() - started < 30
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child), "the exporter's own child process outlived the cancel"


def test_timeout_stops_the_command(tmp_path):
    script = write_script(tmp_path / "hang.py", "import time\ntime.sleep(600)\n")
    started = time.monotonic()
    outcome = process.run_streaming([PY, script], lambda e: None, timeout=1.0, grace=1.0)
    assert outcome.status == FAILED and outcome.kind == "timeout"
    assert time.monotonic() - started < 20


def test_partials_of_a_killed_export_are_removed(tmp_path):
    pt = tmp_path / "CorridorKey.pt"
    pt.write_text("previous build")
    leftovers = [stale_partial(tmp_path, "CorridorKey.pt"), stale_partial(tmp_path, "CorridorKey.json")]
    removed = exporter_client.remove_export_partials(str(pt))
    assert sorted(removed) == sorted(str(p) for p in leftovers)
    assert pt.read_text() == "previous build"


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.mark.parametrize("behaviour", ["hang", "stubborn"])
def test_cancel_midway_keeps_the_previous_build(tmp_path, stand_in_export, stand_in_exporter, behaviour):
    """Cancel while the new .pt is half written, to an exporter that cleans up on SIGTERM and to one that has to
    be killed (whose partial file the runner then removes)."""
    build = tmp_path / "build"
    build.mkdir()
    for source in (stand_in_export.pt, stand_in_export.manifest):
        (build / source.name).write_bytes(source.read_bytes())
    before = _snapshot(build)
    events, on_event = collect()
    cancel_at = lambda: any(e.get("stage") == "save" for e in events)  # noqa: E731
    outcome = exporter_client.run_export(stand_in_exporter(behaviour), str(stand_in_export.checkpoint),
                                         str(build / "CorridorKey.pt"), 128, on_event, is_cancelled=cancel_at,
                                         grace=1.0)
    assert outcome.status == CANCELLED, outcome.message
    assert not any(e["event"] == "done" for e in events)
    assert _snapshot(build) == before, "the previous build changed or partial files were left"


# ---- the real exporter (the export tier) ----------------------------------------------------------------------


def test_real_export_end_to_end(exported_model):
    """The session's real export ran through run_export (tests/conftest.py): the runner read its events."""
    events = exported_model.events
    assert events[-1]["event"] == "done" and events[-1]["pt"] == str(exported_model.pt)
    manifest = json.loads(exported_model.manifest.read_text())
    assert manifest["resolution"] == exported_model.resolution == 128
    progress = [e["progress"] for e in events if e["event"] == "stage"]
    assert len(progress) > 3 and progress == sorted(progress) and progress[-1] < 1.0
    assert not [e for e in events if e["event"] == "error"]
    assert sorted(os.listdir(str(exported_model.directory))) == ["CorridorKey.json", "CorridorKey.pt"]


@pytest.mark.export
def test_real_export_refusal_shows_the_exporters_message(tmp_path):
    lfs = tmp_path / "CorridorKey.pth"
    lfs.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 300000000\n")
    outcome = exporter_client.run_export(PY, str(lfs), str(tmp_path / "out" / "CorridorKey.pt"), 128, lambda e: None)
    assert outcome.status == FAILED and outcome.kind == "user" and outcome.returncode == 2
    assert "LFS" in outcome.message


def test_target_nuke_travels_to_the_exporter_command():
    from nuke_plugin.runner.exporter_client import build_export_command, target_args

    argv = build_export_command("py", "ck.pth", "out/CorridorKey.pt", 2048, progress="json",
                                extra=target_args("nuke16"))
    assert argv[-2:] == ["--target-nuke", "nuke16"]
    assert target_args("") == []


def test_an_argument_the_os_cannot_take_is_a_launch_failure_not_a_traceback():
    """A NUL in a settings path reached Popen, whose ValueError escaped the runner."""
    outcome = process.run_streaming([PY, "/tmp/a\x00b.py"], lambda event: None)
    assert outcome.status == FAILED and outcome.kind == "launch" and "embedded null" in outcome.message


def test_output_nested_too_deeply_is_a_log_line_not_a_crash(tmp_path):
    script = write_script(tmp_path / "deep.py", """
        print('{"a": ' + "[" * 100000)
    """)
    events, on_event = collect()
    outcome = process.run_streaming([PY, script], on_event)
    assert outcome.status == DONE and events[0]["event"] == "log"


def test_a_cancel_that_comes_after_the_export_finished_says_so(tmp_path):
    """The exporter ignores a cancel once its files are committed (exporter.cancel) and reports done: the runner
    must not then say that nothing new was written."""
    started = tmp_path / "committed"
    script = write_script(tmp_path / "finishing.py", """
        import json, signal, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the commit is done: too late to cancel
        open(sys.argv[1], "w").close()
        time.sleep(1.0)
        print(json.dumps({"event": "done", "pt": "/b/CorridorKey.pt", "manifest": "/b/CorridorKey.json"}))
    """)
    outcome = process.run_streaming([PY, script, str(started)], lambda event: None, is_cancelled=started.exists,
                                    grace=30)
    assert outcome.status == CANCELLED and "Cancelled too late" in outcome.message
    assert "/b/CorridorKey.pt and its manifest are the new build" in outcome.message
    assert outcome.pt == "/b/CorridorKey.pt"
