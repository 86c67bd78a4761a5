"""Nuke start-up, GUI only: the CorridorKey menu (Build Model, Insert CorridorKey) and the Nodes-toolbar entry.

Never fails Nuke's start-up: any problem is printed and skipped. Imports no torch. Safe to run twice.
"""
try:
    from nuke_plugin.ui import menus

    menus.register()
except Exception as _error:  # a broken plugin must not stop Nuke from starting
    import sys

    sys.stderr.write("CorridorKey: menu.py skipped: %s: %s\n" % (type(_error).__name__, _error))
