"""Partial files, the atomic write and sha256: the one implementation both processes use."""
import hashlib
import os

import pytest

from nuke_plugin.contract import files


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
    other = files.new_partial(str(tmp_path), "Other.pt")
    assert files.remove_partials(str(tmp_path), ["CorridorKey.pt", "CorridorKey.json"]) == [pt]
    assert os.path.exists(other)


def test_partial_names_are_taken_literally(tmp_path):
    """A name with glob characters removes its own partials, not another output's."""
    mine = files.new_partial(str(tmp_path), "shot[1].pt")
    theirs = files.new_partial(str(tmp_path), "shot1.pt")
    assert files.remove_partials(str(tmp_path), ["shot[1].pt"]) == [mine]
    assert os.path.exists(theirs)


def test_sha256_of_reads_in_chunks(tmp_path):
    path = tmp_path / "blob"
    data = os.urandom(3 * 1024 + 7)
    path.write_bytes(data)
    assert files.sha256_of(str(path), chunk=1024) == hashlib.sha256(data).hexdigest()
