"""What the artist sees inside Nuke: the Qt shim, the CorridorKey menu, the Build Model dialog and the help.

May import: everything below it (host, runner, core, contract), `nuke` and Qt (through ui.qt_compat only).
"""
