"""Nuke's user folder and the plugin folder, each found in one place and used by everything that needs them."""
import ntpath
import os

from nuke_plugin.cli import register
from nuke_plugin.core import paths, settings


def test_home_wins_over_userprofile_as_nuke_finds_it():
    env = {"HOME": "/h", "USERPROFILE": "/u"}
    assert paths.nuke_user_dir(env, platform="nt") == os.path.join("/h", ".nuke")
    assert paths.nuke_user_dir({"USERPROFILE": "/u"}, platform="nt") == os.path.join("/u", ".nuke")
    assert paths.nuke_user_dir(env, platform="posix") == os.path.join("/h", ".nuke")


def test_register_and_the_settings_agree_when_home_and_userprofile_differ(tmp_path, monkeypatch):
    """On Windows os.path.expanduser ignores HOME; registering must still use the folder Nuke reads."""
    home, profile = tmp_path / "home", tmp_path / "profile"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(profile))
    monkeypatch.setattr(os.path, "expanduser", lambda p: ntpath.expanduser(p) if os.name == "nt" else
                        p.replace("~", str(profile), 1))  # what Windows' expanduser does
    expected = os.path.join(str(home), ".nuke")
    assert register.default_nuke_dir() == expected == paths.nuke_user_dir()
    assert os.path.dirname(os.path.dirname(settings.settings_path())) == expected
    written, _ = register.register(root=str(tmp_path / "plugin"))
    assert written == os.path.join(expected, "init.py")


def test_plugin_root_holds_the_start_up_files_and_both_packages():
    root = paths.plugin_root()
    for name in ("init.py", "menu.py", "nuke_plugin", "exporter"):
        assert os.path.exists(os.path.join(root, name)), name
