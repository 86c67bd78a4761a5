"""Menus: registered once however often menu.py runs, and every command tells the artist what to do."""
import os
import sys

import pytest

from nuke_plugin import contract
from nuke_plugin.contract.knob_spec import KNOBS
from nuke_plugin.core.build_set import BuildSet, Slot
from nuke_plugin.core.cattery import ICON_NAME, InstallLayout, cat_json_text, default_install_dir
from nuke_plugin.core.gizmo import gizmo_text
from nuke_plugin.core.staging import install_build, staging_path
from nuke_plugin.host.edition import EDITION_MESSAGE
from nuke_plugin.host.plugin_path import activate
from nuke_plugin.ui import menus
from tests.fake_nuke.catfile import write_fake_cat

EXPECTED_NUKE_MENU = ["CorridorKey", "CorridorKey/Build Model", "CorridorKey/Insert CorridorKey",
                      "CorridorKey/Self-test", "CorridorKey/Help and About"]
EXPECTED_NODES_MENU = ["CorridorKey", "CorridorKey/CorridorKey"]


def test_register_adds_the_menu_and_the_toolbar_entry_once(fake_nuke):
    for _ in range(3):
        assert menus.register() is True
    assert fake_nuke.menu("Nuke").walk() == EXPECTED_NUKE_MENU
    assert fake_nuke.menu("Nodes").walk() == EXPECTED_NODES_MENU


def test_register_keeps_other_tools_in_a_shared_menu(fake_nuke):
    fake_nuke.menu("Nuke").addCommand("CorridorKey/Studio Tool", "nuke.tprint('x')")
    menus.register()
    menus.register()
    assert fake_nuke.menu("Nuke").walk() == ["CorridorKey", "CorridorKey/Studio Tool"] + EXPECTED_NUKE_MENU[1:]


def test_without_a_gui_nothing_is_registered(fake_nuke):
    fake_nuke.fake_set_gui(False)
    assert menus.register() is False
    assert menus.register_node_entry() is False


def _invoke(fake_nuke, path):
    fake_nuke.menu("Nuke").findItem(path).invoke()


def _break_dialog_import(monkeypatch):
    """Makes `from nuke_plugin.ui import commands` fail as a missing or broken module does."""
    import nuke_plugin.ui

    monkeypatch.delattr(nuke_plugin.ui, "commands", raising=False)
    monkeypatch.setitem(sys.modules, "nuke_plugin.ui.commands", None)


def test_build_model_in_plain_nuke_explains_and_loads_no_dialog(plain_nuke, monkeypatch):
    _break_dialog_import(monkeypatch)  # any import attempt would show a different message
    menus.register()
    _invoke(plain_nuke, "CorridorKey/Build Model")
    assert plain_nuke.fake_dialogs_of("message") == [EDITION_MESSAGE]
    assert "NukeX" in EDITION_MESSAGE and "plain Nuke" in EDITION_MESSAGE


def test_build_model_reports_a_dialog_that_cannot_be_imported(fake_nuke, monkeypatch):
    _break_dialog_import(monkeypatch)
    menus.register()
    _invoke(fake_nuke, "CorridorKey/Build Model")
    (message,) = fake_nuke.fake_dialogs_of("message")
    assert "could not be loaded" in message and "nuke_plugin.ui.commands" in message


def test_help_reports_a_window_that_cannot_be_opened(fake_nuke, monkeypatch):
    _break_dialog_import(monkeypatch)
    menus.register()
    _invoke(fake_nuke, "CorridorKey/Help and About")
    (message,) = fake_nuke.fake_dialogs_of("message")
    assert "help window could not be opened" in message


def test_insert_without_a_build_says_how_to_get_one(fake_nuke):
    menus.register()
    _invoke(fake_nuke, "CorridorKey/Insert CorridorKey")
    (message,) = fake_nuke.fake_dialogs_of("message")
    assert "not installed yet" in message and "Build Model" in message
    assert fake_nuke.allNodes() == []


BUILDS = BuildSet(contract.MODEL_ID, 12345678, (Slot(15, "15.1v3"),))


def _install_without_nuke(install_dir):
    layout = InstallLayout(install_dir)
    os.makedirs(layout.folder)
    with open(layout.gizmo, "w") as handle:
        handle.write(gizmo_text(BUILDS))
    write_fake_cat(layout.cat(BUILDS.build_id, 15), "/elsewhere/CorridorKey.pt", KNOBS)  # built on another machine


def test_toolbar_entry_drops_an_installed_node_on_the_selection(fake_nuke):
    _install_without_nuke(default_install_dir())  # e.g. a build made on another machine
    menus.register()
    plate = fake_nuke.nodes.Read()
    plate.setSelected(True)
    fake_nuke.menu("Nodes").findItem("CorridorKey/CorridorKey").invoke()
    (node,) = fake_nuke.allNodes(contract.MODEL_ID)
    assert node.input(0) is plate and fake_nuke.dialogs == []
    assert node["keyed_build"].value() == BUILDS.build_id  # keyed with the build it was made with
    layout = InstallLayout(default_install_dir())
    assert fake_nuke.pluginPath()[:2] == [p.replace(os.sep, "/") for p in (layout.folder, layout.root)]


def test_the_toolbar_entry_carries_the_icon_a_build_installs_on_the_plugin_path(fake_nuke, tmp_path):
    fake_nuke.menu("Nodes").addMenu("CorridorKey")  # an entry left from before icons: it gets one too
    menus.register()
    submenu = fake_nuke.menu("Nodes").findItem("CorridorKey")
    entry = fake_nuke.menu("Nodes").findItem("CorridorKey/CorridorKey")
    assert submenu.icon() == entry.icon() == ICON_NAME
    layout = InstallLayout(str(tmp_path / "ck"))
    os.makedirs(layout.folder)
    cat = staging_path(layout.folder, os.path.basename(layout.cat(BUILDS.build_id, 15)))
    with open(cat, "w") as handle:
        handle.write("built")
    install_build(layout, cat, BUILDS.build_id, 15, gizmo_text(BUILDS), cat_json_text(15.1))
    activate(layout.root)
    # Nuke resolves an icon's file name on the plugin path, where the build's folder now is
    found = [p for p in fake_nuke.pluginPath() if os.path.isfile(os.path.join(p, entry.icon()))]
    assert found == [layout.folder.replace(os.sep, "/")]
    assert os.path.isfile(os.path.join(found[0], ICON_NAME.replace(".png", "@2x.png")))


@pytest.mark.parametrize("edition", ["nukex", "nuke"])
def test_insert_works_in_every_edition(fake_nuke, edition):
    fake_nuke.fake_set_edition(edition)
    _install_without_nuke(default_install_dir())
    menus.insert_command()
    assert len(fake_nuke.allNodes(contract.MODEL_ID)) == 1


def test_build_model_hands_the_toolbar_registration_to_the_build(fake_nuke, monkeypatch):
    """The build job reaches the menu only through this callback (host never imports ui)."""
    from nuke_plugin.ui import commands

    seen = {}
    monkeypatch.setattr(commands, "open_build_dialog", lambda **kwargs: seen.update(kwargs))
    menus.register()
    _invoke(fake_nuke, "CorridorKey/Build Model")
    assert seen == {"on_installed": menus.register_node_entry}
    assert not fake_nuke.fake_dialogs_of("message")


def test_every_corridorkey_node_made_in_the_gui_is_keyed_with_its_installed_build(fake_nuke):
    """menu.py registers the callback once; a node made by any route (Tab, Foundry's Cattery menu) gets the installed
    build, and a saved one is never changed."""
    _install_without_nuke(default_install_dir())
    menus.register()
    menus.register()
    activate(default_install_dir())
    by_tab = fake_nuke.createNode(contract.MODEL_ID)
    by_cattery = fake_nuke.createNode(contract.GIZMO_NAME)  # what nukescripts.cattery calls
    assert by_tab["keyed_build"].value() == by_cattery["keyed_build"].value() == BUILDS.build_id
    assert len([c for c in fake_nuke._on_create if c[3] == contract.MODEL_ID]) == 1
    keyed = fake_nuke.nodes.CorridorKey()
    keyed["keyed_build"].setValue(87654321)  # as a script keyed elsewhere would set it
    from nuke_plugin.host.keying import record_keyed_build

    assert record_keyed_build(keyed) is False and keyed["keyed_build"].value() == 87654321
    keyed.forceValidate()
    assert "keyed with another build" in keyed.error_message()
    keyed["use_installed_build"].execute()  # the Info tab's button re-keys it on purpose
    keyed.forceValidate()
    assert keyed["keyed_build"].value() == BUILDS.build_id and not keyed.hasError()


def test_without_the_menu_nodes_keep_what_they_have(fake_nuke):
    """A render node runs no menu.py: nothing keys nodes there, and a node that recorded none is not checked."""
    fake_nuke.fake_set_gui(False)
    _install_without_nuke(default_install_dir())
    assert menus.register() is False
    activate(default_install_dir())
    node = fake_nuke.createNode(contract.MODEL_ID)
    node.forceValidate()
    assert node["keyed_build"].value() == 0 and not node.hasError()
