"""The CorridorKey menu (Build Model, Insert CorridorKey, Self-test, Help and About), the Nodes-toolbar entry, and
the callback that keys each new CorridorKey node with its installed build (host.keying; GUI sessions only).

Registration is idempotent: an item that already exists is removed before it is added again, so
re-running menu.py (or a build registering the toolbar entry) never leaves duplicates. Commands are plain
functions of this module; the Build Model dialog (nuke_plugin.ui.commands) is imported only when clicked,
so a broken Qt set-up cannot stop Nuke from starting.
"""
from __future__ import annotations

import traceback
from typing import Any, Callable

from .. import contract
from ..core.cattery import ICON_NAME
from ..core.errors import CorridorKeyError
from ..host.edition import EDITION_MESSAGE, cat_files_supported
from ..host.keying import register_callbacks
from ..host.session import env_value

MENU_NAME = "CorridorKey"
BUILD_MODEL = "Build Model"
INSERT_NODE = "Insert CorridorKey"
SELF_TEST = "Self-test"
ABOUT = "Help and About"  # no "/": Nuke reads it as a submenu path
TOOLBAR_ITEM = contract.MODEL_ID  # Nodes > CorridorKey > CorridorKey (also what Tab search lists)


def _submenu(parent: Any, name: str, icon: str = "") -> Any:
    existing = parent.findItem(name)
    if existing is None:
        return parent.addMenu(name, icon=icon) if icon else parent.addMenu(name)
    if icon:
        existing.setIcon(icon)
    return existing


def _command(menu: Any, name: str, command: Callable[[], Any], tooltip: str, icon: str = "") -> Any:
    while menu.findItem(name) is not None:
        menu.removeItem(name)
    if icon:
        return menu.addCommand(name, command, tooltip=tooltip, icon=icon)
    return menu.addCommand(name, command, tooltip=tooltip)


def build_model() -> None:
    """Menu command: opens the Build Model dialog where CatFileCreator exists, else explains."""
    import nuke

    if not cat_files_supported():
        nuke.message(EDITION_MESSAGE)
        return
    try:
        from . import commands
    except Exception as exc:  # any import failure must reach the user, not kill the menu
        traceback.print_exc()
        nuke.message("CorridorKey: the Build Model dialog could not be loaded (%s: %s).\nReinstall the CorridorKey "
                     "plugin; the full error is in the Script Editor." % (type(exc).__name__, exc))
        return
    try:
        commands.open_build_dialog(on_installed=register_node_entry)
    except Exception as exc:  # a bug must reach the user, not kill the menu
        traceback.print_exc()
        nuke.message("CorridorKey: Build Model failed to open (%s: %s)." % (type(exc).__name__, exc))


def about_command() -> None:
    """Menu command: the About / Help window (comp-tree advice, colour contract, knobs)."""
    import nuke

    try:
        from . import commands

        commands.open_help()
    except Exception as exc:  # a Qt problem must reach the user, not kill the menu
        traceback.print_exc()
        nuke.message("CorridorKey: the help window could not be opened (%s: %s)." % (type(exc).__name__, exc))


def menu_probe(report: Any) -> None:
    """Self-test check: does addCommand of an existing name add a second item or replace the first?"""
    import nuke

    from ..core import selftest_report

    menu = _submenu(nuke.menu("Nuke"), MENU_NAME)
    name = "Self-test probe"
    menu.addCommand(name, "pass")
    menu.addCommand(name, "pass")
    count = sum(1 for item in menu.items() if item.name() == name)
    while menu.findItem(name) is not None:
        menu.removeItem(name)
    report.add("menu_add_command", selftest_report.PASS,
               "addCommand of an existing name %s; registration removes first, "
               "so either is fine" % ("replaces it" if count == 1 else "adds a duplicate (%d items)" % count),
               [selftest_report.ADD_COMMAND], {"items": count})


def selftest_command() -> None:
    """Menu command: runs the self-test in this Nuke and shows its summary and report path."""
    import nuke

    from ..host.selftest_checks import run_selftest

    try:
        report, path = run_selftest(probes=[menu_probe])
    except Exception as exc:  # a bug must reach the user, not kill the menu
        traceback.print_exc()
        nuke.message("CorridorKey: the self-test could not run (%s: %s)." % (type(exc).__name__, exc))
        return
    nuke.message("%s\n\nThe full report: %s\nSend that file with your Nuke version when you report a problem."
                 % (report.summary(), path))


def insert_command() -> None:
    """Menu command: drops the node, or says how to get one."""
    import nuke

    from ..host.insert import insert_node

    try:
        insert_node()
    except CorridorKeyError as exc:
        nuke.message(str(exc))


def register_node_entry() -> bool:
    """Nodes toolbar > CorridorKey > CorridorKey (which Tab search lists too). False without a GUI.

    Both carry the build's icon by file name: Nuke finds it on the plugin path, where the node's folder is once
    a build is installed (before that, Nuke shows the entry without an icon)."""
    import nuke

    if not _gui(nuke):
        return False
    toolbar = _submenu(nuke.menu("Nodes"), MENU_NAME, ICON_NAME)
    _command(toolbar, TOOLBAR_ITEM, insert_command, "Insert a CorridorKey keyer on the selected node", ICON_NAME)
    return True


def register() -> bool:
    """menu.py's entry point: the CorridorKey menu and the toolbar entry. False (and nothing done) without a GUI."""
    import nuke

    if not _gui(nuke):
        return False
    menu = _submenu(nuke.menu("Nuke"), MENU_NAME)
    _command(menu, BUILD_MODEL, build_model, "Export the CorridorKey checkpoint and build the Nuke node")
    _command(menu, INSERT_NODE, insert_command, "Insert a CorridorKey keyer on the selected node")
    _command(menu, SELF_TEST, selftest_command, "Check this Nuke with a tiny model: .cat, gizmo, renders, knobs")
    _command(menu, ABOUT, about_command, "How to use CorridorKey: the comp tree, hints, knobs, colour")
    register_node_entry()
    register_callbacks()
    return True


def _gui(nuke: Any) -> bool:
    return bool(env_value(nuke, "gui", False))
