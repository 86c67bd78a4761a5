"""Install folder: where it is, how files land in it (all or nothing), how Nuke finds it."""
import json
import os
import struct

import pytest

from nuke_plugin import contract
from nuke_plugin.core.cattery import (
    InstallLayout,
    cat_json_text,
    default_install_dir,
    layout_for,
    resolve_install_dir,
)
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
    assert layout_for(str(tmp_path / "mine")).gizmo == str(tmp_path / "mine" / "Cattery" / "CorridorKey" /
                                                            contract.GIZMO_NAME)


def _build(folder, text="new cat"):
    temp = staging_path(str(folder), contract.CAT_NAME)
    with open(temp, "w") as handle:
        handle.write(text)
    return temp


def test_install_moves_every_file_into_place_and_leaves_no_partials(fake_nuke, tmp_path):
    layout = InstallLayout(str(tmp_path / "ck"))
    os.makedirs(layout.folder)
    manifest = tmp_path / "CorridorKey.json"
    manifest.write_text("{}")
    files = install_build(layout, _build(layout.folder), "gizmo text", "{\"cats\": []}", str(manifest))
    assert sorted(files) == sorted([layout.gizmo, layout.cat, layout.cat_json, layout.icon, layout.icon_2x,
                                    layout.manifest])
    assert open(layout.cat).read() == "new cat" and open(layout.gizmo).read() == "gizmo text"
    assert sorted(os.listdir(layout.folder)) == sorted(os.path.basename(f) for f in files)
    assert os.listdir(layout.root) == ["Cattery"]


def test_the_node_lives_where_nukes_cattery_menu_looks(fake_nuke, tmp_path):
    """Foundry's cattery module walks the `Cattery` subfolders of plugin-path folders for cat.json files."""
    layout = InstallLayout(str(tmp_path / "ck"))
    install_build(layout, _build(tmp_path), "gizmo text", cat_json_text(15.1))
    assert os.path.dirname(os.path.dirname(layout.gizmo)) == os.path.join(layout.root, "Cattery")
    data = json.loads(open(layout.cat_json).read())
    entry = data["cats"][0]
    assert os.path.isfile(os.path.join(layout.folder, entry["filepath"]))
    assert entry["name"] == contract.MODEL_ID
    icon = open(os.path.join(layout.folder, entry["icon"]), "rb").read()
    assert icon.startswith(b"\x89PNG\r\n\x1a\n") and struct.unpack(">II", icon[16:24]) == (24, 24)
    # Nuke takes name@2x.png beside name.png on high-DPI screens, as public ports ship them: 48 x 48
    double = open(os.path.join(layout.folder, entry["icon"].replace(".png", "@2x.png")), "rb").read()
    assert double.startswith(b"\x89PNG\r\n\x1a\n") and struct.unpack(">II", double[16:24]) == (48, 48)
    assert activate(layout.root) is True  # the root for the Cattery menu, the node's folder for the gizmo
    assert fake_nuke.pluginPath()[:2] == [layout.folder.replace(os.sep, "/"), layout.root.replace(os.sep, "/")]


def test_a_new_build_removes_a_build_in_the_old_flat_layout(fake_nuke, tmp_path):
    layout = InstallLayout(str(tmp_path / "ck"))
    os.makedirs(layout.root)
    names = (contract.GIZMO_NAME, contract.CAT_NAME, "cat.json", contract.MANIFEST_NAME)
    for name in names + ("settings.json",):
        (tmp_path / "ck" / name).write_text("old")
    assert sorted(layout.existing_files()) == sorted(os.path.join(layout.root, n) for n in names)
    install_build(layout, _build(tmp_path), "gizmo text", "{}")
    assert sorted(os.listdir(layout.root)) == ["Cattery", "settings.json"]  # only the old build's files went


def test_a_failed_install_keeps_the_previous_one(fake_nuke, tmp_path):
    layout = InstallLayout(str(tmp_path / "ck"))
    os.makedirs(layout.folder)
    with open(layout.cat, "w") as handle:
        handle.write("old cat")
    os.makedirs(layout.cat_json)  # a folder where cat.json should go: the move fails
    temp_cat = _build(layout.folder)
    with pytest.raises(InstallError, match="previous install was left"):
        install_build(layout, temp_cat, "gizmo text", "{}")
    assert open(layout.cat).read() == "old cat"
    leftovers = [n for n in os.listdir(layout.folder) if ".partial-" in n]
    assert leftovers == [os.path.basename(temp_cat)]  # the caller owns (and removes) the built .cat


@pytest.mark.skipif(os.name == "nt", reason="RLIMIT_FSIZE is POSIX")
def test_a_full_disk_leaves_no_partial_file_on_the_plugin_path(fake_nuke, tmp_path):
    """Disk full while staging the gizmo: its empty partial used to stay in the install folder, which Nuke scans."""
    import resource
    import signal

    layout = InstallLayout(str(tmp_path / "ck"))
    os.makedirs(layout.folder)
    temp_cat = _build(layout.folder)
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG, as ENOSPC does
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, limits[1]))
    try:
        with pytest.raises(InstallError, match="previous install was left"):
            install_build(layout, temp_cat, "x" * 65536, "{}")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, handler)
    assert os.listdir(layout.folder) == [os.path.basename(temp_cat)]  # only the caller's built .cat


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


def test_startup_puts_an_installed_node_folder_on_the_path_too(fake_nuke):
    """The gizmo and .cat are found at every start in every mode, without Foundry's cattery module."""
    layout = layout_for(None)
    os.makedirs(layout.folder)
    assert add_install_dir_at_startup() == layout.root
    assert fake_nuke.pluginPath()[:2] == [layout.folder.replace(os.sep, "/"), layout.root.replace(os.sep, "/")]
