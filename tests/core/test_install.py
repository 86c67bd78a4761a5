"""Install folder: where it is, how files land in it (all or nothing), how Nuke finds it."""
import json
import os
import shutil
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


BUILD, MAJOR = 12345678, 15  # one build ID, made in a Nuke 15


def _build(folder, text="new cat"):
    temp = staging_path(str(folder), "CorridorKey_%d_n%d.cat" % (BUILD, MAJOR))
    with open(temp, "w") as handle:
        handle.write(text)
    return temp


def test_install_moves_every_file_into_place_and_leaves_no_partials(fake_nuke, tmp_path):
    layout = InstallLayout(str(tmp_path / "ck"))
    os.makedirs(layout.folder)
    files = install_build(layout, _build(layout.folder), BUILD, MAJOR, "gizmo text", "{\"cats\": []}", "{}")
    assert sorted(files) == sorted([layout.gizmo, layout.cat(BUILD, MAJOR), layout.cat_json, layout.icon,
                                    layout.icon_2x, layout.manifest(BUILD, MAJOR)])
    assert os.path.basename(layout.cat(BUILD, MAJOR)) == "CorridorKey_12345678_n15.cat"
    assert open(layout.cat(BUILD, MAJOR)).read() == "new cat" and open(layout.gizmo).read() == "gizmo text"
    assert sorted(os.listdir(layout.folder)) == sorted(os.path.basename(f) for f in files)
    assert os.listdir(layout.root) == ["Cattery"]


def test_the_node_lives_where_nukes_cattery_menu_looks(fake_nuke, tmp_path):
    """Foundry's cattery module walks the `Cattery` subfolders of plugin-path folders for cat.json files."""
    layout = InstallLayout(str(tmp_path / "ck"))
    install_build(layout, _build(tmp_path), BUILD, MAJOR, "gizmo text", cat_json_text(15.1))
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
    install_build(layout, _build(tmp_path), BUILD, MAJOR, "gizmo text", "{}")
    assert sorted(os.listdir(layout.root)) == ["Cattery", "settings.json"]  # only the old build's files went


def test_a_new_build_removes_a_single_cat_for_every_nuke(fake_nuke, tmp_path):
    """The layout before builds per Nuke: one CorridorKey.cat in the node folder, which every Nuke loaded."""
    layout = InstallLayout(str(tmp_path / "ck"))
    os.makedirs(layout.folder)
    for name in (contract.CAT_NAME, contract.MANIFEST_NAME):
        (tmp_path / "ck" / "Cattery" / "CorridorKey" / name).write_text("old")
    install_build(layout, _build(layout.folder), BUILD, MAJOR, "gizmo text", "{}")
    assert not os.path.exists(os.path.join(layout.folder, contract.CAT_NAME))
    assert not os.path.exists(os.path.join(layout.folder, contract.MANIFEST_NAME))
    assert layout.is_installed() and [(f.build_id, f.major) for f in layout.slot_files()] == [(BUILD, MAJOR)]


def test_a_failed_install_keeps_the_previous_one(fake_nuke, tmp_path):
    layout = InstallLayout(str(tmp_path / "ck"))
    os.makedirs(layout.folder)
    with open(layout.cat(BUILD, MAJOR), "w") as handle:
        handle.write("old cat")
    os.makedirs(layout.cat_json)  # a folder where cat.json should go: the move fails
    temp_cat = _build(layout.folder)
    with pytest.raises(InstallError, match="cat.json could not be replaced .*the previous build is in place"):
        install_build(layout, temp_cat, BUILD, MAJOR, "gizmo text", "{}")
    assert open(layout.cat(BUILD, MAJOR)).read() == "old cat"
    assert sorted(os.listdir(layout.folder)) == ["CorridorKey_12345678_n15.cat", "cat.json"]  # no partial left


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
        with pytest.raises(InstallError, match="no build was there before, and none is now"):
            install_build(layout, temp_cat, BUILD, MAJOR, "x" * 65536, "{}")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, handler)
    assert os.listdir(layout.folder) == []  # not even the built .cat


def test_an_unwritable_install_folder_is_refused(fake_nuke, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(InstallError, match="CORRIDORKEY_INSTALL_DIR"):
        install_build(InstallLayout(str(blocker / "ck")), str(tmp_path / "x.cat"), BUILD, MAJOR, "", "")


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


def _studio(folder):
    """A folder as the studio command lays it out: the node's gizmo in its Cattery folder."""
    layout = InstallLayout(str(folder))
    os.makedirs(layout.folder)
    with open(layout.gizmo, "w") as handle:
        handle.write("gizmo")
    return layout


def test_a_plugin_run_from_a_studio_folder_installs_there_and_puts_it_first(fake_nuke, tmp_path, monkeypatch):
    """With the studio folder on NUKE_PATH and nothing else, init.py puts its node folder first on the path, and
    Build Model's default install folder is the studio folder (it adds this Nuke's build beside the others)."""
    import nuke_plugin.core.cattery as cattery

    studio = _studio(tmp_path / "studio")
    monkeypatch.setattr(cattery, "plugin_root", lambda: studio.root)
    assert cattery.studio_root() == studio.root and default_install_dir() == studio.root
    os.makedirs(os.path.join(fake_nuke.fake_home, ".nuke", "CorridorKey"))  # an old personal build: not used
    assert add_install_dir_at_startup() == studio.root
    assert fake_nuke.pluginPath()[:2] == [studio.folder.replace(os.sep, "/"), studio.root.replace(os.sep, "/")]
    assert not any("CorridorKey" in p and fake_nuke.fake_home in p for p in fake_nuke.pluginPath())


def test_an_install_folder_the_artist_chose_stays_behind_the_studio_one(fake_nuke, tmp_path, monkeypatch):
    import nuke_plugin.core.cattery as cattery

    studio = _studio(tmp_path / "studio")
    monkeypatch.setattr(cattery, "plugin_root", lambda: studio.root)
    mine = _studio(tmp_path / "mine")
    monkeypatch.setenv("CORRIDORKEY_INSTALL_DIR", mine.root)
    assert add_install_dir_at_startup() == studio.root
    path = fake_nuke.pluginPath()
    assert path.index(studio.folder.replace(os.sep, "/")) < path.index(mine.folder.replace(os.sep, "/"))


def test_a_studio_folder_the_artist_may_not_write_says_whom_to_ask(tmp_path, monkeypatch):
    import nuke_plugin.core.staging as staging

    studio = _studio(tmp_path / "studio")
    real_access = os.access
    # the folder is read-only for this user (checked through os.access, which root would pass anyway)
    monkeypatch.setattr(staging.os, "access", lambda path, mode: False if path == studio.root else real_access(
        path, mode))
    problem = staging.install_folder_problem(studio.root, studio=studio.root)
    assert "studio folder %s, which you may not write" % studio.root in problem
    assert "python -m nuke_plugin.studio" in problem
    assert "is not writable" in staging.install_folder_problem(os.path.join(studio.root, "new", "folder"))
    monkeypatch.undo()
    assert staging.install_folder_problem(studio.root) is None


# ---- all or nothing ---------------------------------------------------------------------------------------------


def _previous_build(layout, manifest_source):
    """The six files of an older build, each saying so, and the new build's inputs."""
    os.makedirs(layout.folder, exist_ok=True)
    for path in (layout.gizmo, layout.cat(BUILD, MAJOR), layout.cat_json, layout.icon, layout.icon_2x,
                 layout.manifest(BUILD, MAJOR)):
        with open(path, "w") as handle:
            handle.write("old " + os.path.basename(path))
    manifest_source.write_text("new manifest")


def _snapshot(folder):
    return {name: open(os.path.join(folder, name), "rb").read() for name in sorted(os.listdir(folder))}


def _install_failing_at(monkeypatch, layout, manifest, at, first):
    """install_build with the `at`-th os.replace (0-based) raising EPERM, as another user's file in a sticky
    folder makes it."""
    import nuke_plugin.contract.files as files_module

    real_replace = os.replace
    calls = []

    def replace(source, destination):
        calls.append(destination)
        if len(calls) - 1 == at:
            raise PermissionError(1, "Operation not permitted")
        return real_replace(source, destination)

    monkeypatch.setattr(files_module.os, "replace", replace)
    try:
        with pytest.raises(InstallError) as caught:
            install_build(layout, _build(layout.folder), BUILD, MAJOR, "gizmo at 512 px", "{\"new\": 1}",
                          manifest.read_text())
    finally:
        monkeypatch.undo()
    return str(caught.value)


@pytest.mark.parametrize("at", range(6))  # the six moves
def test_a_failure_at_any_move_leaves_the_whole_previous_build(fake_nuke, tmp_path, monkeypatch, at):
    """The third move failing used to leave the new gizmo beside the old .cat and cat.json."""
    layout = InstallLayout(str(tmp_path / "ck"))
    _previous_build(layout, tmp_path / "CorridorKey.json")
    before = _snapshot(layout.folder)
    message = _install_failing_at(monkeypatch, layout, tmp_path / "CorridorKey.json", at, first=False)
    assert _snapshot(layout.folder) == before  # all six old, and nothing partial
    assert "could not be replaced (Operation not permitted)" in message
    assert "the previous build is in place, as it was" in message


@pytest.mark.parametrize("at", range(6))  # the six moves
def test_a_failed_first_install_leaves_nothing(fake_nuke, tmp_path, monkeypatch, at):
    layout = InstallLayout(str(tmp_path / "ck"))
    os.makedirs(layout.folder)
    (tmp_path / "CorridorKey.json").write_text("new manifest")
    message = _install_failing_at(monkeypatch, layout, tmp_path / "CorridorKey.json", at, first=True)
    assert os.listdir(layout.folder) == [] and "no build was there before, and none is now" in message


def test_when_the_previous_build_cannot_be_put_back_the_message_says_which_file_is_which(fake_nuke, tmp_path,
                                                                                          monkeypatch):
    import nuke_plugin.contract.files as files_module

    layout = InstallLayout(str(tmp_path / "ck"))
    _previous_build(layout, tmp_path / "CorridorKey.json")
    real_replace = os.replace
    failed = []

    def replace(source, destination):
        if destination == layout.cat_json or (failed and destination == layout.gizmo):
            failed.append(destination)  # the second move, then putting the gizmo back
            raise PermissionError(1, "Operation not permitted")
        return real_replace(source, destination)

    monkeypatch.setattr(files_module.os, "replace", replace)
    with pytest.raises(InstallError) as caught:
        install_build(layout, _build(layout.folder), BUILD, MAJOR, "new gizmo", "{}",
                      (tmp_path / "CorridorKey.json").read_text())
    monkeypatch.undo()
    message = str(caught.value)
    assert "CorridorKey.gizmo (new)" in message and "cat.json (previous)" in message
    assert "CorridorKey_12345678_n15.cat (previous)" in message
    kept = [n for n in os.listdir(layout.folder) if ".partial-" in n]
    assert len(kept) == 1 and open(os.path.join(layout.folder, kept[0])).read() == "old CorridorKey.gizmo"
    assert os.path.join(layout.folder, kept[0]) in message and "rename it to CorridorKey.gizmo" in message


def _another_users_file(path, uid):
    os.chown(path, uid, uid)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0 or not hasattr(os, "fork"),
                    reason="needs root to act as two users (a forked child takes another uid)")
def test_a_shared_sticky_folder_with_another_users_files_keeps_the_whole_previous_build(fake_nuke, tmp_path):
    """The reported case, with real owners: the node folder is 1777, the previous gizmo is the installing user's
    and the other files another user's. The install is refused and every file stays as it was."""
    import tempfile

    installer, other = 4242, 4343  # two uids; a uid needs no account to own files or run a process
    shared_root = tempfile.mkdtemp(prefix="ck-sticky-")
    try:
        os.chmod(shared_root, 0o755)
        layout = InstallLayout(os.path.join(shared_root, "ck"))
        manifest = os.path.join(shared_root, "CorridorKey.json")
        os.makedirs(layout.folder)
        for folder in (layout.root, os.path.dirname(layout.folder), layout.folder):
            os.chmod(folder, 0o1777)
        for path in (layout.gizmo, layout.cat(BUILD, MAJOR), layout.cat_json, layout.icon, layout.icon_2x,
                     layout.manifest(BUILD, MAJOR)):
            with open(path, "w") as handle:
                handle.write("old " + os.path.basename(path))
            os.chmod(path, 0o644)
            _another_users_file(path, installer if path == layout.gizmo else other)
        with open(manifest, "w") as handle:
            handle.write("new manifest")
        os.chmod(manifest, 0o644)
        before = _snapshot(layout.folder)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the installing user: build the .cat as CatFileCreator would, then install
            code = 3
            try:
                os.close(read)
                os.setgid(installer)
                os.setuid(installer)
                try:
                    install_build(layout, _build(layout.folder), BUILD, MAJOR, "gizmo at 512 px", "{}",
                                  open(manifest).read())
                    os.write(write, b"installed")
                except InstallError as exc:
                    os.write(write, str(exc).encode("utf-8"))
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        with os.fdopen(read, "rb") as handle:
            message = handle.read().decode("utf-8")
        assert os.waitpid(pid, 0)[1] == 0, message
        assert _snapshot(layout.folder) == before, message
        assert "cat.json could not be replaced (it belongs to another user (uid %d)" % other in message
        assert "the previous build is in place, as it was" in message
    finally:
        shutil.rmtree(shared_root, ignore_errors=True)
