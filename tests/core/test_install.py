"""Install folder: where it is, how files land in it (all or nothing), how Nuke finds it."""
import os

import pytest

from nuke_plugin import contract
from nuke_plugin.core.cattery import InstallLayout, default_install_dir, layout_for, resolve_install_dir
from nuke_plugin.core.errors import InstallError
from nuke_plugin.core.staging import install_build, staging_path
from nuke_plugin.host.plugin_path import activate, add_install_dir_at_startup


def test_default_is_under_the_users_nuke_folder(fake_nuke):
    assert default_install_dir() == os.path.join(os.path.expanduser("~"), ".nuke", contract.MODEL_ID)
    assert fake_nuke.fake_home in default_install_dir()


def test_env_var_and_argument_override_the_default(fake_nuke, monkeypatch, tmp_path):
    monkeypatch.setenv("CORRIDORKEY_INSTALL_DIR", str(tmp_path / "studio" / "ck"))
    assert default_install_dir() == str(tmp_path / "studio" / "ck")
    assert resolve_install_dir("") == str(tmp_path / "studio" / "ck")
    assert resolve_install_dir(str(tmp_path / "mine")) == str(tmp_path / "mine")
    assert layout_for(str(tmp_path / "mine")).gizmo == str(tmp_path / "mine" / contract.GIZMO_NAME)


def _build(folder, text="new cat"):
    temp = staging_path(str(folder), contract.CAT_NAME)
    with open(temp, "w") as handle:
        handle.write(text)
    return temp


def test_install_moves_every_file_into_place_and_leaves_no_partials(fake_nuke, tmp_path):
    layout = InstallLayout(str(tmp_path / "ck"))
    os.makedirs(layout.root)
    manifest = tmp_path / "CorridorKey.json"
    manifest.write_text("{}")
    files = install_build(layout, _build(layout.root), "gizmo text", "{\"cats\": []}", str(manifest))
    assert sorted(files) == sorted([layout.gizmo, layout.cat, layout.cat_json, layout.manifest])
    assert open(layout.cat).read() == "new cat" and open(layout.gizmo).read() == "gizmo text"
    assert sorted(os.listdir(layout.root)) == sorted(os.path.basename(f) for f in files)


def test_a_failed_install_keeps_the_previous_one(fake_nuke, tmp_path):
    layout = InstallLayout(str(tmp_path / "ck"))
    os.makedirs(layout.root)
    with open(layout.cat, "w") as handle:
        handle.write("old cat")
    os.makedirs(layout.cat_json)  # a folder where cat.json should go: the move fails
    temp_cat = _build(layout.root)
    with pytest.raises(InstallError, match="previous install was left"):
        install_build(layout, temp_cat, "gizmo text", "{}")
    assert open(layout.cat).read() == "old cat"
    leftovers = [n for n in os.listdir(layout.root) if ".partial-" in n]
    assert leftovers == [os.path.basename(temp_cat)]  # the caller owns (and removes) the built .cat


@pytest.mark.skipif(os.name == "nt", reason="RLIMIT_FSIZE is POSIX")
def test_a_full_disk_leaves_no_partial_file_on_the_plugin_path(fake_nuke, tmp_path):
    """Disk full while staging the gizmo: its empty partial used to stay in the install folder, which Nuke scans."""
    import resource
    import signal

    layout = InstallLayout(str(tmp_path / "ck"))
    os.makedirs(layout.root)
    temp_cat = _build(layout.root)
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG, as ENOSPC does
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, limits[1]))
    try:
        with pytest.raises(InstallError, match="previous install was left"):
            install_build(layout, temp_cat, "x" * 65536, "{}")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, handler)
    assert os.listdir(layout.root) == [os.path.basename(temp_cat)]  # only the caller's built .cat


def test_an_unwritable_install_folder_is_refused(fake_nuke, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(InstallError, match="CORRIDORKEY_INSTALL_DIR"):
        install_build(InstallLayout(str(blocker / "ck")), str(tmp_path / "x.cat"), "", "")


def test_activate_adds_the_folder_once(fake_nuke, tmp_path):
    assert activate(str(tmp_path)) is True
    assert activate(str(tmp_path)) is False
    assert fake_nuke.pluginPath()[0] == str(tmp_path).replace(os.sep, "/")
    assert [e for e in fake_nuke.events if e[0] == "pluginAddPath"] == [("pluginAddPath", str(tmp_path))]


def test_startup_adds_the_install_folder_only_when_it_exists(fake_nuke):
    assert add_install_dir_at_startup() is None
    assert len(fake_nuke.pluginPath()) == 1
    os.makedirs(default_install_dir())
    assert add_install_dir_at_startup() == default_install_dir()
    assert fake_nuke.pluginPath()[0] == default_install_dir()
