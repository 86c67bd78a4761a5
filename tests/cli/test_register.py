"""One-step install: the marked block in ~/.nuke/init.py, added once, kept up to date, removable, and nothing of the
user's touched (their edits, line endings, mode, links, read-only or non-UTF-8 files)."""
import os
import runpy
import subprocess
import sys

import pytest

from nuke_plugin.cli.register import MARK, main, register
from nuke_plugin.core.paths import plugin_root

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_plugin_root_is_the_folder_with_init_and_menu():
    assert plugin_root() == ROOT
    assert os.path.isfile(os.path.join(plugin_root(), "init.py"))
    assert os.path.isfile(os.path.join(plugin_root(), "menu.py"))


def test_adds_one_line_keeps_user_content_and_replaces_on_rerun(tmp_path):
    nuke_dir = tmp_path / ".nuke"
    nuke_dir.mkdir()
    (nuke_dir / "init.py").write_text("import nuke\nnuke.pluginAddPath('./gizmos')")  # no final newline
    register(str(nuke_dir), root=str(tmp_path / "old place"))
    register(str(nuke_dir), root=str(tmp_path / "new place"))
    text = (nuke_dir / "init.py").read_text()
    assert text.startswith("import nuke\nnuke.pluginAddPath('./gizmos')\n")
    assert text.count(MARK) == 1
    assert "new place" in text and "old place" not in text
    register(str(nuke_dir), remove=True)
    assert (nuke_dir / "init.py").read_text() == "import nuke\nnuke.pluginAddPath('./gizmos')\n"


def test_the_written_init_py_adds_the_plugin_in_nuke(fake_nuke):
    path, _ = register()  # ~ is the fixture's temporary home
    assert path == os.path.join(fake_nuke.fake_home, ".nuke", "init.py")
    runpy.run_path(path)
    assert fake_nuke.pluginPath()[0] == ROOT.replace(os.sep, "/")


def test_command_line(tmp_path):
    out = subprocess.run([sys.executable, "-m", "nuke_plugin.register_with_nuke", "--nuke-dir", str(tmp_path)],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Restart Nuke" in out.stdout
    assert MARK in (tmp_path / "init.py").read_text()


def test_init_py_keeps_its_mode(tmp_path):
    nuke_dir = tmp_path / ".nuke"
    nuke_dir.mkdir()
    init = nuke_dir / "init.py"
    init.write_text("import nuke\n")
    for mode in (0o644, 0o640, 0o755):
        os.chmod(str(init), mode)
        register(str(nuke_dir), root=str(tmp_path / "plugin"))
        assert os.stat(str(init)).st_mode & 0o777 == mode
        register(str(nuke_dir), remove=True)
        assert os.stat(str(init)).st_mode & 0o777 == mode


def test_a_new_init_py_gets_the_umask_mode_not_a_private_one(tmp_path):
    umask = os.umask(0o022)
    try:
        path, _ = register(str(tmp_path / ".nuke"), root=str(tmp_path / "plugin"))
    finally:
        os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o644
    assert os.listdir(str(tmp_path / ".nuke")) == ["init.py"]  # no temporary file left


def test_console_script_and_module_share_one_main():
    import nuke_plugin.register_with_nuke as shim
    from nuke_plugin.cli import register as cli_register

    assert shim.main is cli_register.main


def _init(tmp_path, content: bytes):
    nuke_dir = tmp_path / ".nuke"
    nuke_dir.mkdir()
    (nuke_dir / "init.py").write_bytes(content)
    return nuke_dir, nuke_dir / "init.py"


def test_lines_the_user_edited_after_the_mark_are_kept(tmp_path):
    """Only the exact lines it wrote are taken out; it used to drop the two lines after the mark whatever they were."""
    user = b"nuke.pluginAddPath('/studio/tools')  # mine now\nimport os\n"
    nuke_dir, init = _init(tmp_path, b"x = 1\n" + MARK.encode() + b"\n" + user)
    register(str(nuke_dir), remove=True)
    assert init.read_bytes() == b"x = 1\n" + user
    (tmp_path / "b").mkdir()
    nuke_dir2, init2 = _init(tmp_path / "b", b"")
    register(str(nuke_dir2), root="/old")
    edited = init2.read_text().replace("/old", "/old'); nuke.pluginAddPath('/extra")
    init2.write_text(edited)
    register(str(nuke_dir2), root="/new")
    text = init2.read_text()
    assert "nuke.pluginAddPath('/old'); nuke.pluginAddPath('/extra')\n" in text  # the user's line stays
    assert text.count(MARK) == 1 and text.endswith("nuke.pluginAddPath('/new')\n")


def test_crlf_and_mixed_line_endings_are_kept(tmp_path):
    content = b"import nuke\r\nnuke.pluginAddPath('./gizmos')\r\nx = 1\n"
    nuke_dir, init = _init(tmp_path, content)
    register(str(nuke_dir), root="/plugin")
    data = init.read_bytes()
    assert data.startswith(content)
    assert data[len(content):] == (MARK + "\r\nimport nuke\r\nnuke.pluginAddPath('/plugin')\r\n").encode()
    register(str(nuke_dir), remove=True)
    assert init.read_bytes() == content


@pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt", reason="symbolic links need privileges on Windows")
def test_a_symlinked_init_py_stays_a_link_and_its_target_is_edited(tmp_path):
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "nuke_init.py"
    real.write_text("import nuke\n")
    os.chmod(str(real), 0o640)
    nuke_dir = tmp_path / ".nuke"
    nuke_dir.mkdir()
    os.symlink(str(real), str(nuke_dir / "init.py"))
    register(str(nuke_dir), root="/plugin")
    assert os.path.islink(str(nuke_dir / "init.py"))
    assert MARK in real.read_text()
    assert os.stat(str(real)).st_mode & 0o777 == 0o640
    assert sorted(os.listdir(str(dotfiles))) == ["nuke_init.py"] and os.listdir(str(nuke_dir)) == ["init.py"]
    register(str(nuke_dir), remove=True)
    assert os.path.islink(str(nuke_dir / "init.py")) and real.read_text() == "import nuke\n"
    real.unlink()  # a link to nothing is named, not followed
    assert main(["--nuke-dir", str(nuke_dir)]) == 2
    assert not real.exists() and os.path.islink(str(nuke_dir / "init.py"))


def test_a_read_only_init_py_is_refused_with_what_to_do(tmp_path, capsys):
    nuke_dir, init = _init(tmp_path, b"import nuke\n")
    os.chmod(str(init), 0o444)
    assert main(["--nuke-dir", str(nuke_dir)]) == 2
    err = capsys.readouterr().err
    assert "read-only" in err and "nuke.pluginAddPath(" in err  # the lines to add by hand
    assert init.read_bytes() == b"import nuke\n" and os.stat(str(init)).st_mode & 0o777 == 0o444


def test_remove_with_nothing_to_remove_changes_nothing(tmp_path, capsys):
    nuke_dir = tmp_path / ".nuke"
    assert main(["--nuke-dir", str(nuke_dir), "--remove"]) == 0
    assert not nuke_dir.exists()  # no folder, no file created
    assert "Nothing to remove" in capsys.readouterr().out
    nuke_dir, init = _init(tmp_path, b"\xff not utf-8\n")
    os.chmod(str(init), 0o444)
    assert main(["--nuke-dir", str(nuke_dir), "--remove"]) == 0
    assert init.read_bytes() == b"\xff not utf-8\n"


def test_a_non_utf8_init_py_is_refused_not_rewritten(tmp_path, capsys):
    content = b"# caf\xe9 (latin-1)\nimport nuke\n"
    nuke_dir, init = _init(tmp_path, content)
    assert main(["--nuke-dir", str(nuke_dir)]) == 2
    err = capsys.readouterr().err
    assert "not UTF-8" in err and "offset 5" in err and "nuke.pluginAddPath(" in err
    assert "Traceback" not in err
    assert init.read_bytes() == content


def test_a_file_given_as_nuke_dir_is_named(tmp_path, capsys):
    nuke_dir, init = _init(tmp_path, b"import nuke\n")
    assert main(["--nuke-dir", str(init)]) == 2
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and "give its folder, %s" % nuke_dir in err
    assert init.read_bytes() == b"import nuke\n"


def test_the_mode_is_kept_and_an_unchanged_file_is_not_rewritten(tmp_path):
    nuke_dir, init = _init(tmp_path, b"import nuke\n")
    os.chmod(str(init), 0o664)
    register(str(nuke_dir), root="/plugin")
    assert os.stat(str(init)).st_mode & 0o777 == 0o664
    before = os.stat(str(init))
    os.chmod(str(init), 0o444)  # registering the same folder again does not need to write
    assert register(str(nuke_dir), root="/plugin") == (str(init), False)
    assert os.stat(str(init)).st_ino == before.st_ino


def test_a_hard_linked_init_py_is_refused(tmp_path, capsys):
    nuke_dir, init = _init(tmp_path, b"import nuke\n")
    os.link(str(init), str(tmp_path / "backup.py"))
    assert main(["--nuke-dir", str(nuke_dir)]) == 2
    assert "hard links" in capsys.readouterr().err
    assert (tmp_path / "backup.py").read_bytes() == init.read_bytes() == b"import nuke\n"


@pytest.mark.parametrize("make", [pytest.param(os.mkfifo, id="named-pipe"),
                                  pytest.param(lambda p: os.symlink("/dev/zero", p), id="endless-device")])
@pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"), reason="POSIX special files")
def test_an_init_py_that_is_not_a_file_is_refused_without_blocking(tmp_path, make):
    """Reading a named pipe waited forever; a link to /dev/zero read until memory ran out."""
    nuke_dir = tmp_path / ".nuke"
    nuke_dir.mkdir()
    make(str(nuke_dir / "init.py"))
    run = subprocess.run([sys.executable, "-m", "nuke_plugin.register_with_nuke", "--nuke-dir", str(nuke_dir)],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "not a file" in run.stderr and "add these lines to it yourself" in run.stderr
