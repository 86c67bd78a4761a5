"""Partial files, the atomic write and sha256: the one implementation both processes use."""
import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from nuke_plugin.contract import files
from tests.conftest import stale_partial

ROOT = str(Path(__file__).resolve().parents[2])
# A running export: makes its partial, says where, and waits for its stdin to close.
WRITE_AND_WAIT = ("import sys; from nuke_plugin.contract.files import new_partial; "
                  "print(new_partial(sys.argv[1], 'CorridorKey.pt'), flush=True); sys.stdin.read()")


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_atomic_write_keeps_an_existing_files_mode(tmp_path, umask_022):
    path = tmp_path / "init.py"
    path.write_text("old\n")
    os.chmod(str(path), 0o640)
    files.atomic_write(str(path), "new\n")
    assert path.read_text() == "new\n" and os.stat(str(path)).st_mode & 0o777 == 0o640


def test_atomic_write_gives_a_new_file_the_umask_mode_not_0600(tmp_path, umask_022):
    path = tmp_path / "settings.json"
    files.atomic_write(str(path), b"{}\n")
    assert os.stat(str(path)).st_mode & 0o777 == 0o644


def test_atomic_write_leaves_the_old_file_and_no_partial_when_it_fails(tmp_path, monkeypatch):
    path = tmp_path / "a.txt"
    path.write_text("old")

    def refuse(*args):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", refuse)
    with pytest.raises(OSError):
        files.atomic_write(str(path), "new")
    assert path.read_text() == "old" and os.listdir(str(tmp_path)) == ["a.txt"]


def test_atomic_write_keeps_line_ends_when_asked(tmp_path):
    path = tmp_path / "crlf.py"
    files.atomic_write(str(path), "a\r\nb\r\n", newline="")
    assert path.read_bytes() == b"a\r\nb\r\n"


def test_partials_are_named_beside_their_file_and_removed_by_name(tmp_path, umask_022):
    pt = files.new_partial(str(tmp_path), "CorridorKey.pt")
    cat = files.new_partial(str(tmp_path), "CorridorKey.cat", keep_suffix=True, create=False)
    assert os.path.basename(pt).startswith(".CorridorKey.pt" + files.PARTIAL_MARK)
    assert os.stat(pt).st_mode & 0o777 == 0o644  # a build is shared like any file
    assert os.path.basename(cat).startswith(".CorridorKey" + files.PARTIAL_MARK) and cat.endswith(".cat")
    assert not os.path.exists(cat)
    assert files.partial_owner(os.path.basename(pt), "CorridorKey.pt") == (files.this_host(), os.getpid())
    stale = [stale_partial(tmp_path, "CorridorKey.pt"), stale_partial(tmp_path, "CorridorKey.json"),
             stale_partial(tmp_path, "CorridorKey.gizmo", keep_suffix=True)]
    other = stale_partial(tmp_path, "Other.pt")
    removed = files.remove_partials(str(tmp_path), ["CorridorKey.pt", "CorridorKey.json", "CorridorKey.gizmo"])
    assert sorted(removed) == sorted(str(p) for p in stale)
    assert os.path.exists(pt) and other.exists()  # a running process's partial, another output's


def test_a_running_exports_partials_are_not_removed(tmp_path):
    """Two exports into one folder: the second's clean-up must not delete the first's partial."""
    child = subprocess.Popen([sys.executable, "-c", WRITE_AND_WAIT, str(tmp_path)], cwd=ROOT,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        theirs = child.stdout.readline().strip()
        assert files.remove_partials(str(tmp_path), ["CorridorKey.pt"]) == []
        assert os.path.exists(theirs)
    finally:
        child.communicate("")
    assert files.remove_partials(str(tmp_path), ["CorridorKey.pt"]) == [theirs]  # its process has ended now


def test_another_machines_partials_are_not_removed(tmp_path):
    stale = stale_partial(tmp_path, "CorridorKey.pt")
    elsewhere = tmp_path / stale.name.replace(files.this_host(), "otherhost" + files.this_host(), 1)
    stale.rename(elsewhere)
    assert files.remove_partials(str(tmp_path), ["CorridorKey.pt"]) == []
    assert elsewhere.exists()


@pytest.mark.parametrize("name, neighbour", [("shot[1].pt", "shot1.pt"), ("shot*.pt", "shot_a.pt"),
                                             ("shot?.pt", "shotA.pt"), ("a.pt", "a.pt.partial-x.pt")])
def test_partial_names_are_taken_literally(tmp_path, name, neighbour):
    """A name with glob characters removes its own partials, not another output's."""
    mine = stale_partial(tmp_path, name)
    theirs = stale_partial(tmp_path, neighbour)
    assert files.remove_partials(str(tmp_path), [name]) == [str(mine)]
    assert theirs.exists()
    assert files.remove_partials(str(tmp_path), [neighbour]) == [str(theirs)]


def test_files_without_an_owner_are_never_removed(tmp_path):
    """Only a name this module wrote can be proven stale; a look-alike the user made is kept."""
    for name in (".CorridorKey.pt.partial-abc123", ".CorridorKey.pt.partial-", "CorridorKey.pt.partial-h-1-x"):
        (tmp_path / name).write_text("keep")
    assert files.remove_partials(str(tmp_path), ["CorridorKey.pt"]) == []
    assert len(os.listdir(str(tmp_path))) == 3


def test_process_alive():
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    assert files.process_alive(os.getpid()) and files.process_alive(os.getppid())
    assert not files.process_alive(int(child.stdout))


def test_sha256_of_reads_in_chunks(tmp_path):
    path = tmp_path / "blob"
    data = os.urandom(3 * 1024 + 7)
    path.write_bytes(data)
    assert files.sha256_of(str(path), chunk=1024) == hashlib.sha256(data).hexdigest()


# ---- the one write primitive --------------------------------------------------------------------------------------


def test_writes_never_change_the_process_umask(tmp_path, monkeypatch, umask_022):
    """Nuke's other threads create files too: flipping the umask to read it would race with them."""
    def no_umask(mask):
        raise AssertionError("os.umask(%o) called" % mask)

    monkeypatch.setattr(files.os, "umask", no_umask)
    files.atomic_write(str(tmp_path / "new.json"), "{}\n")
    (tmp_path / "old.json").write_text("old")
    os.chmod(str(tmp_path / "old.json"), 0o600)
    files.atomic_write(str(tmp_path / "old.json"), "{}\n")
    partial = files.new_partial(str(tmp_path), "CorridorKey.pt")
    monkeypatch.undo()
    assert os.stat(str(tmp_path / "new.json")).st_mode & 0o777 == 0o644
    assert os.stat(str(tmp_path / "old.json")).st_mode & 0o777 == 0o600
    assert os.stat(partial).st_mode & 0o777 == 0o644


def test_a_mode_given_is_set_exactly_past_the_umask(tmp_path, umask_022):
    path = files.write_partial(str(tmp_path), "shared.json", b"{}", mode=0o664)
    assert os.stat(path).st_mode & 0o777 == 0o664


@pytest.mark.skipif(os.name == "nt", reason="folders are flushed on POSIX only")
def test_the_file_and_its_folder_reach_the_disk_around_the_rename(tmp_path, monkeypatch):
    """A power cut after os.replace must not leave an empty file where the old one was."""
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", "folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"))
        real_fsync(fd)

    def replace(source, destination):
        events.append(("replace", os.path.basename(str(destination))))
        real_replace(source, destination)

    monkeypatch.setattr(files.os, "fsync", fsync)
    monkeypatch.setattr(files.os, "replace", replace)
    files.atomic_write(str(tmp_path / "settings.json"), "{}\n")
    assert events == [("fsync", "file"), ("replace", "settings.json"), ("fsync", "folder")]


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, SystemExit, OSError])
def test_any_exception_while_writing_removes_the_partial(tmp_path, interruption):
    def write(handle):
        handle.write(b"half of it")
        raise interruption()

    (tmp_path / "CorridorKey.json").write_text("old")
    with pytest.raises(interruption):
        files.atomic_write(str(tmp_path / "CorridorKey.json"), write)
    assert os.listdir(str(tmp_path)) == ["CorridorKey.json"] and (tmp_path / "CorridorKey.json").read_text() == "old"


# ---- several files committed together ---------------------------------------------------------------------------

NAMES = ("a.gizmo", "b.cat", "cat.json", "d.png", "e.json")


def _old_set(folder, names=NAMES):
    for name in names:
        (folder / name).write_text("old " + name)


def _staged(folder, names=NAMES):
    return [(files.write_partial(str(folder), name, "new " + name), str(folder / name)) for name in names]


def _contents(folder):
    return {p.name: p.read_text() for p in folder.iterdir()}


def _failing_at(monkeypatch, function, at, error=None):
    """Makes the `at`-th call (0-based) of os.<function> raise `error` (EPERM); returns the list of calls."""
    error = error or PermissionError(1, "Operation not permitted")
    real = getattr(os, function)
    calls = []

    def fake(*args, **kwargs):
        calls.append(args)
        if len(calls) - 1 == at:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(files.os, function, fake)
    return calls


@pytest.mark.parametrize("first_install", [False, True])
@pytest.mark.parametrize("at", range(len(NAMES)))
def test_a_failure_at_any_move_puts_every_file_back(tmp_path, monkeypatch, at, first_install):
    if not first_install:
        _old_set(tmp_path)
    before = _contents(tmp_path)
    moves = _staged(tmp_path)
    _failing_at(monkeypatch, "replace", at)
    with pytest.raises(files.CommitError) as caught:
        files.commit_files(moves)
    monkeypatch.undo()
    assert _contents(tmp_path) == before  # every old file back, every partial gone
    assert caught.value.restored and caught.value.failed == moves[at][1]
    assert "Nothing was changed" in str(caught.value)
    assert ("none of the files was there before" if first_install else "previous files are in place") \
        in str(caught.value)


@pytest.mark.parametrize("function", ["link", "fsync"])
def test_a_failure_while_keeping_the_old_files_changes_nothing(tmp_path, monkeypatch, function):
    _old_set(tmp_path)
    before = _contents(tmp_path)
    moves = _staged(tmp_path)
    _failing_at(monkeypatch, function, 2, OSError(5, "Input/output error"))
    try:
        files.commit_files(moves).finish()
    except files.CommitError as exc:
        assert exc.restored
        monkeypatch.undo()
        assert _contents(tmp_path) == before
    else:  # link: a copy instead; fsync of a folder: best effort. Either way the new set is in place, complete.
        monkeypatch.undo()
        assert _contents(tmp_path) == {name: "new " + name for name in NAMES}


def test_without_hard_links_the_old_files_are_copied_and_put_back(tmp_path, monkeypatch):
    _old_set(tmp_path)
    before = _contents(tmp_path)
    moves = _staged(tmp_path)
    monkeypatch.setattr(files.os, "link", lambda *args: (_ for _ in ()).throw(OSError(1, "Operation not permitted")))
    real_replace = os.replace
    monkeypatch.setattr(files.os, "replace", lambda s, d: (_ for _ in ()).throw(OSError(28, "No space left"))
                        if str(d).endswith("e.json") else real_replace(s, d))
    with pytest.raises(files.CommitError, match="e.json could not be replaced .No space left"):
        files.commit_files(moves)
    monkeypatch.undo()
    assert _contents(tmp_path) == before


def test_when_putting_back_fails_too_the_message_says_what_is_where(tmp_path, monkeypatch):
    _old_set(tmp_path)
    moves = _staged(tmp_path)
    real_replace = os.replace
    failed = []

    def replace(source, destination):
        name = os.path.basename(str(destination))
        if name == "d.png" or (name == "b.cat" and failed):
            failed.append(name)  # the 4th move, then putting b.cat back
            raise PermissionError(1, "Operation not permitted")
        return real_replace(source, destination)

    monkeypatch.setattr(files.os, "replace", replace)
    with pytest.raises(files.CommitError) as caught:
        files.commit_files(moves)
    monkeypatch.undo()
    error = caught.value
    assert not error.restored and error.in_place[str(tmp_path / "b.cat")] == files.NEW
    assert error.in_place[str(tmp_path / "a.gizmo")] == files.PREVIOUS
    kept = error.kept[str(tmp_path / "b.cat")]
    assert open(kept).read() == "old b.cat" and kept in str(error) and "rename it to b.cat" in str(error)
    assert "b.cat (new)" in str(error) and "a.gizmo (previous)" in str(error)
    contents = _contents(tmp_path)
    assert contents["b.cat"] == "new b.cat" and all(contents[n] == "old " + n for n in NAMES if n != "b.cat")


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, SystemExit])
def test_an_interruption_during_the_moves_puts_every_file_back(tmp_path, monkeypatch, interruption):
    _old_set(tmp_path)
    before = _contents(tmp_path)
    moves = _staged(tmp_path)
    _failing_at(monkeypatch, "replace", 3, interruption())
    with pytest.raises(interruption):
        files.commit_files(moves)
    monkeypatch.undo()
    assert _contents(tmp_path) == before


def test_undo_after_a_commit_brings_the_previous_set_back(tmp_path):
    _old_set(tmp_path)
    before = _contents(tmp_path)
    commit = files.commit_files(_staged(tmp_path))
    assert _contents(tmp_path)["b.cat"] == "new b.cat"
    commit.undo("cancelled")
    assert _contents(tmp_path) == before


# ---- reading files a user or another process can touch ----------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_refused_without_blocking(tmp_path):
    """Opening a FIFO for reading waits for a writer: the reader would hang Nuke's start-up."""
    fifo = tmp_path / "settings.json"
    os.mkfifo(str(fifo))
    code = ("import sys\nfrom nuke_plugin.contract import files\n"
            "try:\n    files.read_json(sys.argv[1], 1 << 20)\nexcept ValueError as exc:\n    print('refused:', exc)\n")
    out = subprocess.run([sys.executable, "-c", code, str(fifo)], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert "refused: %s is a named pipe, not a file" % fifo in out.stdout, out.stderr


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="an endless device")
def test_a_link_to_an_endless_device_or_a_folder_is_refused(tmp_path):
    os.symlink("/dev/zero", str(tmp_path / "zero.json"))
    with pytest.raises(files.FileRefused, match="is a device"):
        files.read_bytes(str(tmp_path / "zero.json"), 1 << 20)
    with pytest.raises(files.FileRefused, match="is a folder"):
        files.read_bytes(str(tmp_path), 1 << 20)
    with pytest.raises(files.FileRefused, match="is a device"):
        files.sha256_of(str(tmp_path / "zero.json"))


def test_a_file_past_the_limit_is_refused(tmp_path):
    (tmp_path / "big.json").write_bytes(b" " * 2000)
    assert len(files.read_bytes(str(tmp_path / "big.json"), 2000)) == 2000
    with pytest.raises(files.FileRefused, match="larger than 1999 bytes"):
        files.read_bytes(str(tmp_path / "big.json"), 1999)


@pytest.mark.parametrize("text, why", [("[" * 100000 + "]" * 100000, "nested too deeply"),
                                       ("1" * 5000, "digits"), ('{"a": -' + "9" * 200 + "}", "digits"),
                                       ("\xff", "not valid JSON")])
def test_json_that_would_exhaust_the_reader_is_refused(tmp_path, text, why):
    (tmp_path / "x.json").write_bytes(text.encode("latin-1"))
    with pytest.raises(files.FileRefused, match=why):
        files.read_json(str(tmp_path / "x.json"), 1 << 20)


@pytest.mark.skipif(os.name == "nt", reason="symbolic links")
def test_a_link_the_user_made_comes_back_as_that_link(tmp_path, monkeypatch):
    (tmp_path / "elsewhere.gizmo").write_text("the user's own file")
    os.symlink(str(tmp_path / "elsewhere.gizmo"), str(tmp_path / "a.gizmo"))
    moves = [(files.write_partial(str(tmp_path), "a.gizmo", "new"), str(tmp_path / "a.gizmo")),
             (files.write_partial(str(tmp_path), "b.cat", "new"), str(tmp_path / "b.cat"))]
    _failing_at(monkeypatch, "replace", 1)
    with pytest.raises(files.CommitError):
        files.commit_files(moves)
    monkeypatch.undo()
    assert os.readlink(str(tmp_path / "a.gizmo")) == str(tmp_path / "elsewhere.gizmo")
    assert sorted(os.listdir(str(tmp_path))) == ["a.gizmo", "elsewhere.gizmo"]
