"""Where the export writes: refused before any work when it cannot end well, saved with its size known, and
committed as a pair. Real files and real processes; the export itself runs only where the check needs it."""
import os
import shutil
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import pytest

import exporter.export as export_module
import exporter.output as output_module
from exporter.errors import ExportError
from nuke_plugin.contract import files
from tests.conftest import SMALL_RESOLUTION

ROOT = Path(__file__).resolve().parents[2]
posix_only = pytest.mark.skipif(os.name == "nt", reason="symlinks, sticky folders and rlimits are POSIX")


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def _child_env():
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONWARNINGS", None)
    return env


# ---- the checkpoint itself as --output --------------------------------------------------------------------------


def _same_path(folder, checkpoint):
    return checkpoint


def _symlink(folder, checkpoint):
    os.symlink(str(checkpoint), str(folder / "CorridorKey.pt"))
    return folder / "CorridorKey.pt"


def _hard_link(folder, checkpoint):
    os.link(str(checkpoint), str(folder / "CorridorKey.pt"))
    return folder / "CorridorKey.pt"


def _linked_folder(folder, checkpoint):
    os.symlink(str(folder), str(folder.parent / "alias"))
    return folder.parent / "alias" / checkpoint.name


def _manifest_is_the_checkpoint(folder, checkpoint):
    checkpoint.rename(folder / "CorridorKey.json")
    return folder / "CorridorKey.pt"


@pytest.mark.parametrize("make_output", [
    _same_path,
    pytest.param(_symlink, marks=posix_only),
    _hard_link,
    pytest.param(_linked_folder, marks=posix_only),
    _manifest_is_the_checkpoint,
])
def test_export_refuses_to_overwrite_its_checkpoint(tmp_path, make_output):
    folder = tmp_path / "models"
    folder.mkdir()
    checkpoint = folder / "weights.pt"
    checkpoint.write_bytes(b"the user's only copy of the weights")
    output = make_output(folder, checkpoint)
    if not checkpoint.exists():
        checkpoint = folder / "CorridorKey.json"
    before = _names(folder)
    with pytest.raises(ExportError, match="would overwrite the checkpoint"):
        export_module.export(str(checkpoint), str(output), resolution=SMALL_RESOLUTION)
    assert checkpoint.read_bytes() == b"the user's only copy of the weights" and _names(folder) == before


def test_the_command_exits_2_on_its_own_checkpoint(tmp_path):
    checkpoint = tmp_path / "CorridorKey.pt"
    checkpoint.write_bytes(b"weights")
    result = subprocess.run([sys.executable, "-m", "exporter", "--checkpoint", str(checkpoint), "--output",
                             str(checkpoint)], cwd=str(ROOT), capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "would overwrite the checkpoint" in result.stdout
    assert checkpoint.read_bytes() == b"weights" and _names(tmp_path) == ["CorridorKey.pt"]


# ---- outputs that cannot be replaced, found before the export ---------------------------------------------------


@pytest.mark.parametrize("folder_name", ["CorridorKey.pt", "CorridorKey.json"])
def test_an_existing_folder_as_output_is_refused_first(tmp_path, folder_name):
    (tmp_path / folder_name).mkdir()
    with pytest.raises(ExportError, match="is a folder"):
        export_module.export(str(tmp_path / "missing.pth"), str(tmp_path / "CorridorKey.pt"),
                             resolution=SMALL_RESOLUTION)


def test_a_read_only_output_is_refused_first(tmp_path):
    pt = tmp_path / "CorridorKey.pt"
    pt.write_bytes(b"a build the user protected")
    pt.chmod(0o444)
    with pytest.raises(ExportError, match="read-only"):
        export_module.export(str(tmp_path / "missing.pth"), str(pt), resolution=SMALL_RESOLUTION)
    assert pt.read_bytes() == b"a build the user protected"


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX owners")
def test_another_users_file_in_a_sticky_folder_is_refused_first(tmp_path, monkeypatch):
    """/tmp-like folders let only a file's owner replace it: os.replace would fail after the whole export."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    (shared / "CorridorKey.pt").write_bytes(b"someone else's build")
    owner = os.stat(str(shared / "CorridorKey.pt")).st_uid
    monkeypatch.setattr(output_module.os, "geteuid", lambda: owner + 1000)  # we are another user now
    with pytest.raises(ExportError, match="belongs to another user"):
        export_module.export(str(tmp_path / "missing.pth"), str(shared / "CorridorKey.pt"), resolution=SMALL_RESOLUTION)


# ---- disk space and file-size limits ----------------------------------------------------------------------------


def test_a_full_disk_is_found_before_the_trace(tmp_path, small_checkpoint, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(output_module.shutil, "disk_usage", lambda path: usage(10 << 30, 10 << 30, 5 << 20))
    traced = []
    monkeypatch.setattr(export_module, "trace_with_reference", lambda *args, **kwargs: traced.append(args))
    out = tmp_path / "new" / "build" / "CorridorKey.pt"
    with pytest.raises(ExportError) as caught:
        export_module.export(str(small_checkpoint), str(out), resolution=SMALL_RESOLUTION)
    message = str(caught.value)
    assert "Not enough disk space in %s" % out.parent in message and "5 MB is free" in message
    assert int(message.split("the model needs ")[1].split(" MB")[0]) > 250  # the weights' size, in MB
    assert not traced and _names(tmp_path) == []  # nothing partial, and no folder left that the export made


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="ulimit -f is POSIX")
def test_ulimit_f_smaller_than_the_model_exits_2_early(tmp_path, small_checkpoint):
    import resource

    def limit_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (50 << 20, 50 << 20))

    result = subprocess.run([sys.executable, "-m", "exporter", "--checkpoint", str(small_checkpoint), "--output",
                             str(tmp_path / "out" / "CorridorKey.pt"), "--resolution", str(SMALL_RESOLUTION)],
                            cwd=str(ROOT), env=_child_env(), capture_output=True, text=True, timeout=600,
                            preexec_fn=limit_files)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "limits files to 52 MB (ulimit -f)" in result.stdout and "Tracing" not in result.stdout
    assert _names(tmp_path) == []


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="ulimit -f is POSIX")
def test_a_write_past_ulimit_f_is_an_error_not_a_crash(tmp_path):
    """SIGXFSZ would kill the exporter mid-write (a core dump, a partial left): the exporter ignores it, so the
    write fails with EFBIG and becomes exit-2 text naming the folder and the size."""
    import resource

    code = ("import sys\n"
            "from exporter.cli import install_signal_handlers\n"
            "from exporter.errors import ExportError\n"
            "from exporter.output import write_partial\n"
            "install_signal_handlers()\n"
            "try:\n"
            "    write_partial(sys.argv[1], 'CorridorKey.pt', memoryview(bytes(3 << 20)))\n"
            "except ExportError as exc:\n"
            "    print(exc)\n"
            "    sys.exit(2)\n")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=str(ROOT), env=_child_env(),
                            capture_output=True, text=True, timeout=120,
                            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20)))
    assert result.returncode == 2, result.stderr
    assert "Could not save the model in %s" % tmp_path in result.stdout and "ulimit -f" in result.stdout
    assert "needs 3 MB" in result.stdout and _names(tmp_path) == []


# ---- the pair ---------------------------------------------------------------------------------------------------


def _pair(folder, tag):
    folder.mkdir(exist_ok=True)
    (folder / "CorridorKey.pt").write_bytes(b"pt " + tag)
    (folder / "CorridorKey.json").write_bytes(b"json " + tag)


def _partials(folder):
    pt = files.new_partial(str(folder), "CorridorKey.pt")
    Path(pt).write_bytes(b"pt new")
    manifest = files.new_partial(str(folder), "CorridorKey.json")
    Path(manifest).write_bytes(b"json new")
    return pt, manifest


def test_commit_replaces_both_files(tmp_path):
    _pair(tmp_path, b"old")
    pt, manifest = _partials(tmp_path)
    output_module.commit_pair(pt, str(tmp_path / "CorridorKey.pt"), manifest, str(tmp_path / "CorridorKey.json"))
    assert (tmp_path / "CorridorKey.pt").read_bytes() == b"pt new"
    assert (tmp_path / "CorridorKey.json").read_bytes() == b"json new"
    assert _names(tmp_path) == ["CorridorKey.json", "CorridorKey.pt"]


def test_a_manifest_that_cannot_be_moved_leaves_the_previous_pair(tmp_path):
    _pair(tmp_path, b"old")
    pt, manifest = _partials(tmp_path)
    os.remove(manifest)  # gone before the commit: its move fails after the .pt's
    with pytest.raises(ExportError, match="previous build was left as it was"):
        output_module.commit_pair(pt, str(tmp_path / "CorridorKey.pt"), manifest,
                                  str(tmp_path / "CorridorKey.json"))
    assert (tmp_path / "CorridorKey.pt").read_bytes() == b"pt old"
    assert (tmp_path / "CorridorKey.json").read_bytes() == b"json old"
    assert _names(tmp_path) == ["CorridorKey.json", "CorridorKey.pt"]


def test_without_hard_links_the_previous_pair_is_still_kept(tmp_path, monkeypatch):
    """Some shares (FAT, SMB) have no hard links: the previous .pt is moved aside instead, and moved back."""
    def no_links(source, destination):
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(output_module.os, "link", no_links)
    _pair(tmp_path, b"old")
    pt, manifest = _partials(tmp_path)
    os.remove(manifest)
    with pytest.raises(ExportError, match="previous build was left as it was"):
        output_module.commit_pair(pt, str(tmp_path / "CorridorKey.pt"), manifest,
                                  str(tmp_path / "CorridorKey.json"))
    assert (tmp_path / "CorridorKey.pt").read_bytes() == b"pt old"
    assert _names(tmp_path) == ["CorridorKey.json", "CorridorKey.pt"]


def test_a_failed_first_commit_leaves_no_pt_without_a_manifest(tmp_path):
    pt, manifest = _partials(tmp_path)
    os.remove(manifest)
    with pytest.raises(ExportError):
        output_module.commit_pair(pt, str(tmp_path / "CorridorKey.pt"), manifest,
                                  str(tmp_path / "CorridorKey.json"))
    assert _names(tmp_path) == []


def test_export_whose_manifest_cannot_be_written_keeps_the_previous_pair(tmp_path, small_checkpoint, monkeypatch):
    """A real export up to the very end; only the manifest's move into place is refused (as a folder the user
    cannot write would), after the new .pt is in place."""
    build = tmp_path / "build"
    build.mkdir()
    (build / "CorridorKey.pt").write_bytes(b"the previous build")
    (build / "CorridorKey.json").write_text("the previous manifest")
    before = {name: (build / name).read_bytes() for name in _names(build)}
    real_replace = os.replace
    moved = []

    def refuse_the_manifest(source, destination):
        if str(destination).endswith("CorridorKey.json"):
            assert any(str(d).endswith("CorridorKey.pt") for d in moved), "the .pt is ready and in place"
            raise PermissionError(13, "Permission denied")
        moved.append(destination)
        real_replace(source, destination)

    monkeypatch.setattr(output_module.os, "replace", refuse_the_manifest)
    with pytest.raises(ExportError) as caught:
        export_module.export(str(small_checkpoint), str(build / "CorridorKey.pt"), resolution=SMALL_RESOLUTION)
    assert "Could not write %s (Permission denied)" % (build / "CorridorKey.json") in str(caught.value)
    assert "previous build was left as it was" in str(caught.value)
    assert {name: (build / name).read_bytes() for name in _names(build)} == before


# ---- folders ----------------------------------------------------------------------------------------------------


def test_a_failed_first_export_leaves_no_empty_folder(tmp_path):
    (tmp_path / "kept").mkdir()
    out = tmp_path / "kept" / "new" / "deeper" / "CorridorKey.pt"
    with pytest.raises(ExportError, match="not found"):
        export_module.export(str(tmp_path / "missing.pth"), str(out), resolution=SMALL_RESOLUTION)
    assert _names(tmp_path) == ["kept"] and _names(tmp_path / "kept") == []


def test_folders_the_user_filled_meanwhile_are_kept(tmp_path):
    created = output_module.make_folder(str(tmp_path / "a" / "b"))
    assert created == [str(tmp_path / "a"), str(tmp_path / "a" / "b")]
    (tmp_path / "a" / "notes.txt").write_text("mine")
    output_module.remove_folders(created)
    assert _names(tmp_path / "a") == ["notes.txt"]


def test_an_existing_build_of_ours_is_accepted(tmp_path):
    (tmp_path / "CorridorKey.pt").write_bytes(b"ours")
    assert output_module.check_output(str(tmp_path / "ck.pth"), str(tmp_path / "CorridorKey.pt")) == str(
        tmp_path / "CorridorKey.pt")


# ---- a cancel at every instruction of the commit ---------------------------------------------------------------


# Frames whose bytecodes are counted: ours and contextlib's (the commit window). A handler that raises inside a
# standard-library helper these call (posixpath, secrets) has the effect of raising right after that call returns:
# none of them catches the exception or leaves a change half made.
TRACED = tuple(os.path.abspath(m.__file__) for m in (output_module, files, __import__("contextlib"),
                                                      __import__("exporter.cancel").cancel))


def _commit_with_a_signal_before(folder, step):
    """commit_pair with SIGTERM's handler run before its `step`-th bytecode, exactly where CPython runs a signal
    handler; then the export's own clean-up of its partials. Returns (whether the signal came, what the exporter
    would report)."""
    import signal

    from exporter import cancel
    from exporter.errors import ExportCancelled

    cancel.reset()
    pt_tmp, manifest_tmp = _partials(folder)
    count = [0]

    def local(frame, event, arg):
        if event == "opcode":
            count[0] += 1
            if count[0] == step:
                cancel.on_signal(signal.SIGTERM, frame)  # raises when the handler would
        return local

    def tracer(frame, event, arg):
        if os.path.abspath(frame.f_code.co_filename) not in TRACED:
            return None
        frame.f_trace_opcodes = True
        return local

    sys.settrace(tracer)
    try:
        output_module.commit_pair(pt_tmp, str(folder / "CorridorKey.pt"), manifest_tmp,
                                  str(folder / "CorridorKey.json"))
        outcome = "done"
    except ExportCancelled:
        outcome = "cancelled"
    except ExportError as exc:
        outcome = "error: %s" % exc
    finally:
        sys.settrace(None)
    for path in (pt_tmp, manifest_tmp):  # _export's `finally`
        if os.path.exists(path):
            os.remove(path)
    if outcome == "done":  # after the commit a cancel is too late: it must not raise any more
        cancel.on_signal(signal.SIGTERM, None)
    return count[0] >= step, outcome


@pytest.mark.parametrize("first", [False, True])
def test_a_cancel_at_every_instruction_of_the_commit_leaves_a_consistent_pair(tmp_path, monkeypatch, first):
    """Issue 19: SIGTERM right after the .pt's rename used to report "nothing was written" with the new .pt beside
    the old manifest, and the clean-up deleted the last copy of the old .pt. Here the handler runs before each
    bytecode in turn: "cancelled" must mean the previous pair (or none), "done" the new pair, and nothing else may
    be left in the folder."""
    old = {} if first else {"CorridorKey.pt": b"pt old", "CorridorKey.json": b"json old"}
    new = {"CorridorKey.pt": b"pt new", "CorridorKey.json": b"json new"}
    monkeypatch.setattr(files.os, "fsync", lambda fd: None)  # a C call, atomic for a handler: only time here
    outcomes = set()
    step = 0
    while True:
        step += 1
        folder = tmp_path / str(step)
        folder.mkdir()
        for name, data in old.items():
            (folder / name).write_bytes(data)
        fired, outcome = _commit_with_a_signal_before(folder, step)
        contents = {p.name: p.read_bytes() for p in folder.iterdir()}
        if outcome == "cancelled":
            assert contents == old, (step, contents)
        else:
            assert outcome == "done" and contents == new, (step, outcome, contents)
        outcomes.add(outcome)
        shutil.rmtree(str(folder))
        if not fired:
            break
    assert outcomes == {"cancelled", "done"} and step > 50  # both ends were reached, through many instructions
