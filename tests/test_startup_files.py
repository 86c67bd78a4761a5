"""init.py and menu.py: do their one job, can run twice, never break Nuke's start-up, never import torch."""
import os
import runpy
import subprocess
import sys
import textwrap

import pytest

from nuke_plugin.core.cattery import default_install_dir

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INIT = os.path.join(ROOT, "init.py")
MENU = os.path.join(ROOT, "menu.py")


def test_init_adds_an_existing_install_folder_once(fake_nuke):
    runpy.run_path(INIT)
    assert len(fake_nuke.pluginPath()) == 1  # nothing installed yet: nothing added
    os.makedirs(default_install_dir())
    runpy.run_path(INIT)
    runpy.run_path(INIT)
    assert fake_nuke.pluginPath().count(default_install_dir()) == 1
    assert fake_nuke.pluginPath()[0] == default_install_dir()


def test_init_follows_the_install_dir_variable(fake_nuke, monkeypatch, tmp_path):
    monkeypatch.setenv("CORRIDORKEY_INSTALL_DIR", str(tmp_path / "studio"))
    (tmp_path / "studio").mkdir()
    runpy.run_path(INIT)
    assert fake_nuke.pluginPath()[0] == str(tmp_path / "studio")


def test_init_follows_the_install_folder_chosen_in_build_model(fake_nuke, tmp_path):
    from nuke_plugin.core.settings import load_settings, save_settings

    chosen = tmp_path / "show" / "tools"
    chosen.mkdir(parents=True)
    settings = load_settings()
    settings.install_dir = str(chosen)
    save_settings(settings)
    runpy.run_path(INIT)
    assert fake_nuke.pluginPath()[0] == str(chosen)


def test_menu_py_can_be_reloaded_without_duplicates(fake_nuke):
    for _ in range(2):
        runpy.run_path(MENU)
    assert fake_nuke.menu("Nuke").walk() == ["CorridorKey", "CorridorKey/Build Model", "CorridorKey/Insert CorridorKey",
                                             "CorridorKey/Self-test", "CorridorKey/Help and About"]
    assert fake_nuke.menu("Nodes").walk() == ["CorridorKey", "CorridorKey/CorridorKey"]


def test_menu_py_in_terminal_mode_is_silent(fake_nuke, capsys):
    fake_nuke.fake_set_gui(False)
    runpy.run_path(MENU)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("path, module", [(INIT, "nuke_plugin.host.plugin_path"), (MENU, "nuke_plugin.ui.menus")])
def test_a_broken_plugin_is_reported_not_raised(fake_nuke, monkeypatch, capsys, path, module):
    import importlib

    package, name = module.rsplit(".", 1)
    monkeypatch.delattr(importlib.import_module(package), name, raising=False)
    monkeypatch.setitem(sys.modules, module, None)  # the import now fails as a missing or broken file does
    runpy.run_path(path)
    err = capsys.readouterr().err
    assert "CorridorKey: %s skipped: ModuleNotFoundError" % os.path.basename(path) in err
    assert module in err


def test_startup_and_nuke_side_modules_import_no_torch_or_numpy(tmp_path):
    script = textwrap.dedent("""
        import os, runpy, sys
        sys.path.insert(0, %(root)r)
        modules = ["nuke_plugin." + m for m in ("core.errors", "core.manifest", "core.gizmo", "core.cattery",
                                                "core.staging", "host.plugin_path", "host.cat_builder", "host.insert",
                                                "ui.menus", "host.finish", "host.build_job", "cli.headless",
                                                "cli.register")]
        for name in modules:  # importable with no nuke at all: pure logic
            __import__(name)
        from tests.fake_nuke import FakeNuke
        os.makedirs(os.path.join(%(home)r, ".nuke"), exist_ok=True)
        sys.modules["nuke"] = FakeNuke(home=%(home)r)
        runpy.run_path(%(init)r)
        runpy.run_path(%(menu)r)
        heavy = sorted(m for m in ("torch", "numpy") if m in sys.modules)
        print("HEAVY=" + ",".join(heavy))
    """) % {"root": ROOT, "home": str(tmp_path), "init": INIT, "menu": MENU}
    env = dict(os.environ, HOME=str(tmp_path), USERPROFILE=str(tmp_path))
    env.pop("CORRIDORKEY_INSTALL_DIR", None)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=str(tmp_path),
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "HEAVY=\n" in out.stdout, out.stdout


def test_startup_files_stay_short():
    for path in (INIT, MENU):
        code = [line for line in open(path) if line.strip() and not line.lstrip().startswith("#")]
        assert len(code) <= 15, path
