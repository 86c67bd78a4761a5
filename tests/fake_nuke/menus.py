"""Menus and toolbars of the fake `nuke` module.

Modelled: `addMenu` returns the existing submenu of that name (what shared studio menus rely on), names with
'/' create submenus as needed, `findItem` / `removeItem` / `items` / `invoke`. Stricter than Nuke on one
point, on purpose: `addCommand` with a name that already exists appends a second item, so code that does not
check first (and would leave duplicates in any Nuke that does not replace) fails the tests.
"""
from __future__ import annotations

from typing import Any, List, Optional, Union


class MenuItem(object):
    def __init__(self, name: str, command: Any = None, shortcut: Optional[str] = None, icon: Optional[str] = None,
                 tooltip: Optional[str] = None, fake: Any = None) -> None:
        self._name = name
        self._command = command
        self._shortcut = shortcut or ""
        self._icon = icon or ""
        self._tooltip = tooltip or ""
        self._enabled = True
        self._visible = True
        self._fake = fake

    def name(self) -> str:
        return self._name

    def script(self) -> Any:
        return self._command

    def setScript(self, script: Any) -> None:
        self._command = script

    def icon(self) -> str:
        return self._icon

    def setIcon(self, icon: str) -> None:
        self._icon = icon

    def shortcut(self) -> str:
        return self._shortcut

    def setShortcut(self, shortcut: str) -> None:
        self._shortcut = shortcut

    def tooltip(self) -> str:
        return self._tooltip

    def setEnabled(self, enabled: bool, recursive: bool = False) -> None:
        self._enabled = bool(enabled)

    def isEnabled(self) -> bool:
        return self._enabled

    def setVisible(self, visible: bool) -> None:
        self._visible = bool(visible)

    def invoke(self) -> None:
        """Runs the command as Nuke does: a callable is called, a string is executed with `nuke` imported."""
        if not self._enabled:
            raise RuntimeError("menu item %s is disabled" % self._name)
        if callable(self._command):
            self._command()
        elif isinstance(self._command, str):
            exec(self._command, {"nuke": self._fake, "__name__": "__nuke_menu__"})
        else:
            raise RuntimeError("menu item %s has no command" % self._name)

    def __repr__(self) -> str:
        return "<fake MenuItem %s>" % self._name


class Menu(MenuItem):
    def __init__(self, name: str, fake: Any = None, icon: Optional[str] = None, tooltip: Optional[str] = None) -> None:
        super(Menu, self).__init__(name, None, None, icon, tooltip, fake)
        self._items: List[MenuItem] = []

    def _split(self, name: str) -> List[str]:
        if not isinstance(name, str) or not name:
            raise TypeError("menu item names are non-empty str, got %r" % (name,))
        return [p for p in name.replace("\\", "/").split("/") if p]

    def _child(self, name: str) -> Optional[MenuItem]:
        for item in self._items:
            if item.name() == name:
                return item
        return None

    def _submenu_for(self, parts: List[str]) -> "Menu":
        menu = self
        for part in parts:
            child = menu._child(part)
            if child is None:
                child = Menu(part, self._fake)
                menu._items.append(child)
            if not isinstance(child, Menu):
                raise RuntimeError("%s is a command, not a menu" % part)
            menu = child
        return menu

    def addMenu(self, name: str, icon: Optional[str] = None, tooltip: Optional[str] = None, index: int = -1,
                tag: Any = None) -> "Menu":
        parts = self._split(name)
        parent = self._submenu_for(parts[:-1])
        existing = parent._child(parts[-1])
        if isinstance(existing, Menu):
            return existing
        menu = Menu(parts[-1], self._fake, icon, tooltip)
        parent._insert(menu, index)
        return menu

    def addCommand(self, name: str, command: Any = None, shortcut: Optional[str] = None, icon: Optional[str] = None,
                   tooltip: Optional[str] = None, index: int = -1, readonly: bool = False,
                   shortcutContext: Any = None, tag: Any = None, tagTarget: Any = None, node: Any = None) -> MenuItem:
        parts = self._split(name)
        if command is not None and not (callable(command) or isinstance(command, str)):
            raise TypeError("addCommand %s: the command must be a str or a callable, got %r" % (name, command))
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError("addCommand %s: index must be an int" % name)
        if command is None:
            command = "nuke.createNode(%r)" % parts[-1]
        parent = self._submenu_for(parts[:-1])
        item = MenuItem(parts[-1], command, shortcut, icon, tooltip, self._fake)
        parent._insert(item, index)
        return item

    def addSeparator(self, index: int = -1, **kwargs: Any) -> MenuItem:
        item = MenuItem("", None, fake=self._fake)
        self._insert(item, index)
        return item

    def _insert(self, item: MenuItem, index: int) -> None:
        if index is None or index < 0 or index >= len(self._items):
            self._items.append(item)
        else:
            self._items.insert(index, item)

    def findItem(self, name: str) -> Optional[Union["Menu", MenuItem]]:
        parts = self._split(name)
        menu: Any = self
        for part in parts:
            if not isinstance(menu, Menu):
                return None
            menu = menu._child(part)
            if menu is None:
                return None
        return menu

    def menu(self, name: str) -> Optional[Union["Menu", MenuItem]]:
        return self.findItem(name)

    def removeItem(self, name: str) -> None:
        parts = self._split(name)
        parent = self.findItem("/".join(parts[:-1])) if len(parts) > 1 else self
        if isinstance(parent, Menu):
            for item in list(parent._items):
                if item.name() == parts[-1]:
                    parent._items.remove(item)
                    return

    def clearMenu(self) -> bool:
        self._items = []
        return True

    def items(self) -> List[MenuItem]:
        return list(self._items)

    def __repr__(self) -> str:
        return "<fake Menu %s>" % self._name

    # -- fake-only helpers for tests
    def count(self, name: str) -> int:
        """How many direct items carry this name (duplicates show up here)."""
        return sum(1 for item in self._items if item.name() == name)

    def walk(self, prefix: str = "") -> List[str]:
        """Every item's path below this menu, duplicates included."""
        paths = []
        for item in self._items:
            path = prefix + item.name()
            paths.append(path)
            if isinstance(item, Menu):
                paths.extend(item.walk(path + "/"))
        return paths
