"""One-step install: the marked line in ~/.nuke/init.py, added once, kept up to date, removable."""
import os
import runpy
import subprocess
import sys

from nuke_plugin.cli.register import MARK, register
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
    path = register()  # ~ is the fixture's temporary home
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
        path = register(str(tmp_path / ".nuke"), root=str(tmp_path / "plugin"))
    finally:
        os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o644
    assert os.listdir(str(tmp_path / ".nuke")) == ["init.py"]  # no temporary file left


def test_console_script_and_module_share_one_main():
    import nuke_plugin.register_with_nuke as shim
    from nuke_plugin.cli import register as cli_register

    assert shim.main is cli_register.main
