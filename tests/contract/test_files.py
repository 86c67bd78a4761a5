"""Partial files, the atomic write and sha256: the one implementation both processes use."""
import hashlib
import os
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
