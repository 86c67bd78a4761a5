"""Nuke start-up, every mode (GUI, terminal, render farm): put the installed CorridorKey node on the plugin path.

Never fails Nuke's start-up: any problem is printed and skipped. Imports no torch.
"""
try:
    from nuke_plugin.host.plugin_path import add_install_dir_at_startup

    add_install_dir_at_startup()
except Exception as _error:  # a broken plugin must not stop Nuke from starting
    import sys

    sys.stderr.write("CorridorKey: init.py skipped: %s: %s\n" % (type(_error).__name__, _error))
