"""Command lines run from a shell with any Python 3.9+: the headless build, the registration in ~/.nuke/init.py
and the knob-table generator for the docs.

May import: the standard library, nuke_plugin.contract, nuke_plugin.core and nuke_plugin.runner; never `nuke`,
Qt or nuke_plugin.host / nuke_plugin.ui (the NukeX build script is run as a file by Nuke, not imported).
"""
